//! Keyset pagination: `?limit=N&cursor=C` in, `{"items": [...], "next_cursor": ...}` out.
//!
//! A cursor is the sort key of the last item of a page, base64url-encoded so clients treat it as
//! opaque. The next page is the rows strictly after that key in the list's stable order, so rows
//! inserted or deleted between requests never shift a page: nothing is skipped or repeated.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

pub const DEFAULT_LIMIT: i64 = 50;
pub const MAX_LIMIT: i64 = 500;
const CURSOR_VERSION: &str = "v1:";
/// Longer than any cursor Redes issues: the longest sort key is a 200-character name (up to
/// 800 bytes of UTF-8) with an id, about 1,150 characters once encoded.
pub const MAX_CURSOR_LEN: usize = 4096;
/// The longest sort key a cursor can carry.
pub const MAX_SORT_KEY_BYTES: usize = MAX_CURSOR_LEN / 4 * 3 - 3;

/// A page request: how many rows, after which sort key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PageRequest {
    pub limit: i64,
    pub after: Option<String>,
}

impl Default for PageRequest {
    fn default() -> Self {
        PageRequest {
            limit: DEFAULT_LIMIT,
            after: None,
        }
    }
}

impl PageRequest {
    /// Rows to fetch: one more than the page, to learn whether another page follows.
    pub fn fetch_limit(&self) -> i64 {
        self.limit + 1
    }
}

pub fn encode_cursor(sort_key: &str) -> String {
    URL_SAFE_NO_PAD.encode(format!("{CURSOR_VERSION}{sort_key}"))
}

/// The sort key inside a cursor, or `None` if it is not a cursor Redes issued.
pub fn decode_cursor(cursor: &str) -> Option<String> {
    if cursor.len() > MAX_CURSOR_LEN {
        return None;
    }
    let bytes = URL_SAFE_NO_PAD.decode(cursor.trim()).ok()?;
    let text = String::from_utf8(bytes).ok()?;
    text.strip_prefix(CURSOR_VERSION).map(str::to_owned)
}

/// Cuts the rows fetched with [`PageRequest::fetch_limit`] to a page and the cursor of the next.
pub fn into_page<T>(
    mut rows: Vec<T>,
    request: &PageRequest,
    sort_key: impl Fn(&T) -> String,
) -> (Vec<T>, Option<String>) {
    let limit = usize::try_from(request.limit).unwrap_or(0);
    if rows.len() > limit {
        rows.truncate(limit);
        let next = rows.last().map(|row| encode_cursor(&sort_key(row)));
        (rows, next)
    } else {
        (rows, None)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip_and_reject_forgeries() {
        let cursor = encode_cursor("CL-13101");
        assert_eq!(decode_cursor(&cursor).as_deref(), Some("CL-13101"));
        assert_eq!(decode_cursor("not base64!"), None);
        assert_eq!(decode_cursor(&URL_SAFE_NO_PAD.encode("CL-13101")), None);
        assert_eq!(decode_cursor(&"A".repeat(5000)), None);
        // The longest name cursor: 200 four-byte characters, a separator and an id.
        let longest = format!("{}\u{1f}{}", "𝐀".repeat(200), uuid::Uuid::nil());
        assert_eq!(decode_cursor(&encode_cursor(&longest)), Some(longest));
    }

    #[test]
    fn a_page_has_a_next_cursor_only_when_more_rows_exist() {
        let request = PageRequest {
            limit: 2,
            after: None,
        };
        let (items, next) = into_page(vec![1, 2, 3], &request, |n| n.to_string());
        assert_eq!(items, vec![1, 2]);
        assert_eq!(next.and_then(|c| decode_cursor(&c)).as_deref(), Some("2"));
        let (items, next) = into_page(vec![1, 2], &request, |n| n.to_string());
        assert_eq!(items, vec![1, 2]);
        assert_eq!(next, None);
    }
}
