//! Pagination cursors, which clients send back as they like.
#![no_main]

use libfuzzer_sys::fuzz_target;
use redes::pagination::{MAX_SORT_KEY_BYTES, decode_cursor, encode_cursor};
use redes::repository::NameCursor;

fuzz_target!(|text: &str| {
    if let Some(payload) = decode_cursor(text) {
        let _ = NameCursor::decode(&payload);
    }
    // Whatever a sort key holds, up to the longest Redes uses, its cursor decodes back to it.
    if text.len() <= MAX_SORT_KEY_BYTES {
        assert_eq!(decode_cursor(&encode_cursor(text)).as_deref(), Some(text));
    }
});
