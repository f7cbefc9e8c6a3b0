//! The language of messages for people: Spanish or English, chosen by `Accept-Language`.

use std::future::{Ready, ready};

use actix_web::http::header::HeaderMap;
use actix_web::{FromRequest, HttpRequest, dev::Payload};

/// A language Redes writes its messages in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lang {
    Es,
    En,
}

impl Lang {
    /// The language to answer a request in: the client's most preferred of Spanish and English
    /// (any `es-*` or `en-*` tag counts), English when it names neither.
    pub fn from_headers(headers: &HeaderMap) -> Lang {
        headers
            .get(actix_web::http::header::ACCEPT_LANGUAGE)
            .and_then(|value| value.to_str().ok())
            .map_or(Lang::En, Lang::negotiate)
    }

    /// Picks from an `Accept-Language` value (RFC 9110 §12.5.4). Earlier entries win ties.
    pub fn negotiate(accept_language: &str) -> Lang {
        let mut best: Option<(Lang, f32)> = None;
        for entry in accept_language.split(',') {
            let mut parts = entry.split(';');
            let tag = parts.next().unwrap_or("").trim();
            let quality = parts
                .find_map(|p| p.trim().strip_prefix("q="))
                .and_then(|q| q.trim().parse::<f32>().ok())
                .unwrap_or(1.0);
            let primary = tag.split('-').next().unwrap_or("");
            let lang = if primary.eq_ignore_ascii_case("es") {
                Lang::Es
            } else if primary.eq_ignore_ascii_case("en") {
                Lang::En
            } else {
                continue;
            };
            if quality > 0.0 && best.is_none_or(|(_, q)| quality > q) {
                best = Some((lang, quality));
            }
        }
        best.map_or(Lang::En, |(lang, _)| lang)
    }

    pub fn tag(self) -> &'static str {
        match self {
            Lang::Es => "es",
            Lang::En => "en",
        }
    }

    /// Chooses between the Spanish and the English text.
    pub fn pick<T>(self, es: T, en: T) -> T {
        match self {
            Lang::Es => es,
            Lang::En => en,
        }
    }
}

/// Extracts the language a request should be answered in.
impl FromRequest for Lang {
    type Error = std::convert::Infallible;
    type Future = Ready<Result<Self, Self::Error>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(Ok(Lang::from_headers(req.headers())))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn negotiates_by_quality_and_order() {
        assert_eq!(Lang::negotiate("es-CL"), Lang::Es);
        assert_eq!(Lang::negotiate("es-CO,es;q=0.9,en;q=0.8"), Lang::Es);
        assert_eq!(Lang::negotiate("en-US,es;q=0.5"), Lang::En);
        assert_eq!(Lang::negotiate("fr-FR, es;q=0.4, en;q=0.6"), Lang::En);
        assert_eq!(Lang::negotiate("fr, de"), Lang::En);
        assert_eq!(Lang::negotiate("es;q=0, en;q=0.1"), Lang::En);
        assert_eq!(Lang::negotiate("*"), Lang::En);
        assert_eq!(Lang::negotiate("ES"), Lang::Es);
    }
}
