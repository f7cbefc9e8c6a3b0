//! Text helpers shared by search filters.

use unicode_normalization::UnicodeNormalization;
use unicode_normalization::char::is_combining_mark;

/// Folds text for accent- and case-insensitive search: "Ñuñoa" and "NUNOA" both become "nunoa".
///
/// Names are stored with their folded form beside them, and search terms are folded the same
/// way, so one portable `LIKE` works on SQLite and PostgreSQL alike.
pub fn fold(text: &str) -> String {
    let mut folded = String::with_capacity(text.len());
    let mut last_was_space = true;
    for c in text.nfd().filter(|c| !is_combining_mark(*c)) {
        if c.is_whitespace() {
            if !last_was_space {
                folded.push(' ');
            }
            last_was_space = true;
        } else {
            folded.extend(c.to_lowercase());
            last_was_space = false;
        }
    }
    if folded.ends_with(' ') {
        folded.pop();
    }
    folded
}

/// Escapes `%`, `_` and the escape character itself for a `LIKE ... ESCAPE '\'` pattern.
pub fn escape_like(text: &str) -> String {
    let mut escaped = String::with_capacity(text.len());
    for c in text.chars() {
        if matches!(c, '%' | '_' | '\\') {
            escaped.push('\\');
        }
        escaped.push(c);
    }
    escaped
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fold_removes_accents_case_and_extra_spaces() {
        assert_eq!(fold("Ñuñoa"), "nunoa");
        assert_eq!(fold("  Bogotá,   D.C. "), "bogota, d.c.");
        assert_eq!(
            fold("AYSÉN del General Carlos Ibáñez"),
            "aysen del general carlos ibanez"
        );
    }

    #[test]
    fn escape_like_escapes_wildcards() {
        assert_eq!(escape_like("50%_a\\b"), "50\\%\\_a\\\\b");
    }
}
