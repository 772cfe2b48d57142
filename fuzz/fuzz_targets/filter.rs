//! The SCIM filter parser and its normal form: any text is refused or
//! planned, never a panic, never unbounded memory (`-rss_limit_mb`).
#![no_main]

use curity_dynamodb::store::filter::{MAX_PRODUCTS, normalize, parse};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(tree) = parse(text)
        && let Ok(dnf) = normalize(&tree)
    {
        assert!(dnf.len() <= MAX_PRODUCTS);
    }
});
