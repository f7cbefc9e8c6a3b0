//! Entity tags and conditional requests (RFC 9110 §8.8.3, §13).
//!
//! Every resource row has a `version` that each write increments; its ETag is that number,
//! quoted. `If-None-Match` on a GET answers 304 when the client's copy is current; `If-Match` on
//! PUT, PATCH and DELETE answers 412 when it is not, so two clients cannot overwrite each other's
//! changes unknowingly.

use std::future::{Ready, ready};

use actix_web::http::header::{self, HeaderMap, HeaderValue};
use actix_web::{FromRequest, HttpRequest, dev::Payload};

use crate::error::ApiError;

/// The ETag of a version: `"7"`.
pub fn etag(version: i64) -> String {
    format!("\"{version}\"")
}

pub fn etag_header(version: i64) -> (header::HeaderName, HeaderValue) {
    (
        header::ETAG,
        HeaderValue::from_str(&etag(version)).unwrap_or(HeaderValue::from_static("\"0\"")),
    )
}

/// The conditional headers of a request.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Preconditions {
    if_match: Option<Vec<String>>,
    if_none_match: Option<Vec<String>>,
}

impl Preconditions {
    pub fn from_headers(headers: &HeaderMap) -> Preconditions {
        Preconditions {
            if_match: list(headers, header::IF_MATCH),
            if_none_match: list(headers, header::IF_NONE_MATCH),
        }
    }

    /// For a write: `Err(PreconditionFailed)` if `If-Match` is present and does not name the
    /// current version (strong comparison: a weak tag never matches).
    pub fn check_write(&self, current_version: i64) -> Result<(), ApiError> {
        match &self.if_match {
            None => Ok(()),
            Some(tags) => {
                let current = etag(current_version);
                if tags.iter().any(|tag| tag == "*" || *tag == current) {
                    Ok(())
                } else {
                    Err(ApiError::PreconditionFailed)
                }
            }
        }
    }

    /// For a read: whether the client's copy is current, so the answer is 304 (weak
    /// comparison: `W/"7"` matches `"7"`).
    pub fn not_modified(&self, current_version: i64) -> bool {
        let current = etag(current_version);
        self.if_none_match.as_ref().is_some_and(|tags| {
            tags.iter()
                .any(|tag| tag == "*" || tag.trim_start_matches("W/") == current)
        })
    }
}

fn list(headers: &HeaderMap, name: header::HeaderName) -> Option<Vec<String>> {
    let values: Vec<String> = headers
        .get_all(name)
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(','))
        .map(|tag| tag.trim().to_owned())
        .filter(|tag| !tag.is_empty())
        .collect();
    (!values.is_empty()).then_some(values)
}

impl FromRequest for Preconditions {
    type Error = ApiError;
    type Future = Ready<Result<Self, Self::Error>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(Ok(Preconditions::from_headers(req.headers())))
    }
}

#[cfg(test)]
mod tests {
    use actix_web::test::TestRequest;

    use super::*;

    fn preconditions(headers: &[(&str, &str)]) -> Preconditions {
        let mut request = TestRequest::default();
        for (name, value) in headers {
            request = request.insert_header((*name, *value));
        }
        Preconditions::from_headers(request.to_http_request().headers())
    }

    #[test]
    fn if_match_is_strong_and_accepts_lists_and_star() {
        assert!(preconditions(&[]).check_write(3).is_ok());
        assert!(
            preconditions(&[("If-Match", "\"3\"")])
                .check_write(3)
                .is_ok()
        );
        assert!(
            preconditions(&[("If-Match", "\"1\", \"3\"")])
                .check_write(3)
                .is_ok()
        );
        assert!(preconditions(&[("If-Match", "*")]).check_write(3).is_ok());
        assert!(
            preconditions(&[("If-Match", "\"2\"")])
                .check_write(3)
                .is_err()
        );
        assert!(
            preconditions(&[("If-Match", "W/\"3\"")])
                .check_write(3)
                .is_err()
        );
    }

    #[test]
    fn if_none_match_is_weak() {
        assert!(!preconditions(&[]).not_modified(3));
        assert!(preconditions(&[("If-None-Match", "W/\"3\"")]).not_modified(3));
        assert!(preconditions(&[("If-None-Match", "\"2\", \"3\"")]).not_modified(3));
        assert!(!preconditions(&[("If-None-Match", "\"2\"")]).not_modified(3));
    }
}
