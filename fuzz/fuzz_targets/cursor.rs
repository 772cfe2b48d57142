//! Cursor decoding: any text a caller sends is refused or decoded, and a
//! decoded cursor encodes back to text that decodes to the same cursor.
#![no_main]

use curity_dynamodb::store::cursor::{decode, encode};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let binding = "accounts||userName sw \"a\"|None";
    if let Ok(cursor) = decode(text, binding) {
        let again = decode(&encode(&cursor, binding), binding).expect("round trip");
        assert_eq!(again, cursor);
    }
});
