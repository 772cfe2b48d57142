//! What Curity's JSON data source requests carry, from any bytes: form
//! bodies and queries, JSON bodies, Java-encoded path segments and base64
//! headers are each decoded or refused, never a panic; a decoded segment
//! has no `+` left unless it came from `%2B`.
#![no_main]

use curity_dynamodb::json_ds::params;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = params::form(data);
    let _ = params::json(data);
    let _ = params::base64_header(data);
    if let Ok(text) = std::str::from_utf8(data)
        && let Ok(decoded) = params::segment(text)
    {
        let plus_in = text.matches("%2B").count() + text.matches("%2b").count();
        assert!(decoded.matches('+').count() <= plus_in);
    }
});
