//! Query-string parameters, read so that every problem is reported at once.
//!
//! `QueryParams` is the extractor: it splits and decodes the query string. A handler then reads
//! its parameters through a [`QueryReader`], whose typed getters collect issues instead of
//! stopping at the first, and whose `finish` also rejects parameters the operation does not
//! document (a misspelt filter silently ignored would return the wrong rows).

use std::future::{Ready, ready};
use std::str::FromStr;

use actix_web::{FromRequest, HttpRequest, dev::Payload};
use percent_encoding::percent_decode_str;

use crate::catalog::{Catalogue, CatalogueEntry};
use crate::domain::TerritoryRef;
use crate::domain::territory::parse_uuid;
use crate::error::{ApiError, Issue, IssueKind};
use crate::pagination::{self, MAX_LIMIT, PageRequest};

/// The decoded `name=value` pairs of the query string, in order.
#[derive(Debug, Clone, Default)]
pub struct QueryParams {
    pairs: Vec<(String, String)>,
    issues: Vec<Issue>,
}

impl QueryParams {
    pub fn parse(query: &str) -> QueryParams {
        let mut params = QueryParams::default();
        for part in query.split('&').filter(|p| !p.is_empty()) {
            let (name, value) = part.split_once('=').unwrap_or((part, ""));
            let name = decode(name);
            let value = decode(value);
            match (name, value) {
                (Ok(name), Ok(value)) => params.pairs.push((name, value)),
                (Ok(name), Err(())) => params
                    .issues
                    .push(Issue::query(&name, IssueKind::InvalidEncoding)),
                (Err(()), _) => params.issues.push(Issue::query(
                    &String::from_utf8_lossy(&percent_decode_str(part).collect::<Vec<_>>())
                        .chars()
                        .take(64)
                        .collect::<String>(),
                    IssueKind::InvalidEncoding,
                )),
            }
        }
        params
    }

    /// Starts reading the parameters an operation documents.
    pub fn reader(&self, known: &'static [&'static str]) -> QueryReader<'_> {
        QueryReader {
            params: self,
            known,
            issues: self.issues.clone(),
        }
    }
}

fn decode(text: &str) -> Result<String, ()> {
    let text = text.replace('+', " ");
    percent_decode_str(&text)
        .decode_utf8()
        .map(|s| s.into_owned())
        .map_err(|_| ())
}

impl FromRequest for QueryParams {
    type Error = ApiError;
    type Future = Ready<Result<Self, Self::Error>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(Ok(QueryParams::parse(req.query_string())))
    }
}

/// Extractor for operations that take no query parameters: any parameter is a 400 that names
/// it, rather than being silently ignored.
#[derive(Debug, Clone, Copy)]
pub struct NoParams;

impl FromRequest for NoParams {
    type Error = ApiError;
    type Future = Ready<Result<Self, Self::Error>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(
            QueryParams::parse(req.query_string())
                .reader(&[])
                .finish()
                .map(|()| NoParams),
        )
    }
}

/// Reads typed parameters, collecting every issue.
pub struct QueryReader<'a> {
    params: &'a QueryParams,
    known: &'static [&'static str],
    issues: Vec<Issue>,
}

impl QueryReader<'_> {
    /// The value of a parameter given at most once (possibly empty).
    fn single(&mut self, name: &str) -> Option<&str> {
        let mut values = self
            .params
            .pairs
            .iter()
            .filter(|(n, _)| n == name)
            .map(|(_, v)| v.as_str());
        let first = values.next()?;
        if values.next().is_some() {
            self.issues
                .push(Issue::query(name, IssueKind::RepeatedParameter));
            return None;
        }
        Some(first)
    }

    /// The parameter's one value exactly as sent (empty included), for a parser of its own.
    pub fn value(&mut self, name: &str) -> Option<String> {
        self.single(name).map(str::to_owned)
    }

    /// Free text of at most `max_chars` characters as sent, trimmed; empty counts as absent.
    pub fn text(&mut self, name: &str, max_chars: usize) -> Option<String> {
        let value = self.single(name)?;
        if value.chars().count() > max_chars {
            self.issues
                .push(Issue::query(name, IssueKind::TooLong { max: max_chars }));
            return None;
        }
        // PostgreSQL text cannot hold NUL, so no filter can contain one.
        if value.contains('\0') {
            self.issues.push(Issue::query(
                name,
                IssueKind::format("texto sin caracteres NUL", "text without NUL characters"),
            ));
            return None;
        }
        Some(value.trim().to_owned()).filter(|v| !v.is_empty())
    }

    /// One of a fixed set of values.
    pub fn choice<T: FromStr>(
        &mut self,
        name: &str,
        allowed: &'static [&'static str],
    ) -> Option<T> {
        let value = self.single(name)?;
        match value.parse::<T>() {
            Ok(parsed) => Some(parsed),
            Err(_) => {
                self.issues
                    .push(Issue::query(name, IssueKind::InvalidChoice { allowed }));
                None
            }
        }
    }

    /// Whether the parameter was given at all.
    pub fn has(&self, name: &str) -> bool {
        self.params.pairs.iter().any(|(n, _)| n == name)
    }

    /// A whole number in `min..=max`.
    pub fn integer(&mut self, name: &str, min: i64, max: i64) -> Option<i64> {
        let value = self.single(name)?;
        match value.parse::<i64>() {
            Ok(n) if (min..=max).contains(&n) => Some(n),
            Ok(_) => {
                self.issues
                    .push(Issue::query(name, IssueKind::OutOfRange { min, max }));
                None
            }
            Err(_) => {
                self.issues
                    .push(Issue::query(name, IssueKind::InvalidInteger));
                None
            }
        }
    }

    /// A territory named by key or id, resolved in the catalogue.
    pub fn territory<'c>(
        &mut self,
        name: &str,
        catalogue: &'c Catalogue,
    ) -> Option<&'c CatalogueEntry> {
        let value = self.single(name)?;
        match TerritoryRef::parse(value) {
            Err(_) => {
                self.issues
                    .push(Issue::query(name, IssueKind::InvalidTerritory));
                None
            }
            Ok(reference) => {
                let entry = catalogue.resolve(&reference);
                if entry.is_none() {
                    self.issues
                        .push(Issue::query(name, IssueKind::UnknownTerritory));
                }
                entry
            }
        }
    }

    /// `limit` (1-500, default 50) and `cursor`.
    pub fn page(&mut self) -> PageRequest {
        let limit = self
            .integer("limit", 1, MAX_LIMIT)
            .unwrap_or(pagination::DEFAULT_LIMIT);
        // An empty cursor is the first page.
        let after = self
            .text("cursor", pagination::MAX_CURSOR_LEN)
            .and_then(|cursor| {
                let decoded = pagination::decode_cursor(&cursor);
                if decoded.is_none() {
                    self.issues
                        .push(Issue::query("cursor", IssueKind::InvalidCursor));
                }
                decoded
            });
        PageRequest { limit, after }
    }

    /// Adds an issue found by the handler itself.
    pub fn issue(&mut self, name: &str, kind: IssueKind) {
        self.issues.push(Issue::query(name, kind));
    }

    /// Every value of a repeatable parameter (`?kind=daem&kind=slep`), as sent.
    pub fn every(&mut self, name: &str) -> Vec<String> {
        self.params
            .pairs
            .iter()
            .filter(|(n, _)| n == name)
            .map(|(_, v)| v.clone())
            .collect()
    }

    /// Every value of a repeatable parameter, each one of a fixed set.
    pub fn choices<T: FromStr>(&mut self, name: &str, allowed: &'static [&'static str]) -> Vec<T> {
        let mut parsed = Vec::new();
        for value in self.every(name) {
            match value.parse::<T>() {
                Ok(v) => parsed.push(v),
                Err(_) => self
                    .issues
                    .push(Issue::query(name, IssueKind::InvalidChoice { allowed })),
            }
        }
        parsed
    }

    /// `true` or `false`.
    pub fn boolean(&mut self, name: &str) -> Option<bool> {
        match self.single(name)? {
            "true" => Some(true),
            "false" => Some(false),
            _ => {
                self.issues.push(Issue::query(
                    name,
                    IssueKind::InvalidChoice {
                        allowed: &["true", "false"],
                    },
                ));
                None
            }
        }
    }

    /// A UUID.
    pub fn uuid(&mut self, name: &str) -> Option<uuid::Uuid> {
        let value = self.single(name)?;
        match parse_uuid(value) {
            Some(id) => Some(id),
            None => {
                self.issues.push(Issue::query(
                    name,
                    IssueKind::InvalidValue {
                        expected_es: "un UUID".into(),
                        expected_en: "a UUID".into(),
                    },
                ));
                None
            }
        }
    }

    /// A calendar date, `YYYY-MM-DD`.
    pub fn date(&mut self, name: &str) -> Option<chrono::NaiveDate> {
        let value = self.single(name)?;
        match parse_date(value) {
            Some(date) => Some(date),
            None => {
                self.issues.push(Issue::query(
                    name,
                    IssueKind::format("una fecha AAAA-MM-DD", "a date YYYY-MM-DD"),
                ));
                None
            }
        }
    }

    /// Fails with every issue found, including parameters the operation does not take.
    pub fn finish(mut self) -> Result<(), ApiError> {
        let mut unknown: Vec<&str> = Vec::new();
        for (name, _) in &self.params.pairs {
            if !self.known.contains(&name.as_str()) && !unknown.contains(&name.as_str()) {
                unknown.push(name);
            }
        }
        for name in unknown {
            let shown: String = name.chars().take(64).collect();
            self.issues.push(Issue::query(
                &shown,
                IssueKind::UnknownParameter { known: self.known },
            ));
        }
        if self.issues.is_empty() {
            Ok(())
        } else if self
            .issues
            .iter()
            .all(|i| i.kind == IssueKind::UnknownTerritory)
        {
            // Well-formed, but naming territories that do not exist.
            Err(ApiError::UnknownReference(self.issues))
        } else {
            Err(ApiError::InvalidParameters(self.issues))
        }
    }
}

/// A calendar date written exactly `YYYY-MM-DD` (what the API documents and stores).
pub fn parse_date(value: &str) -> Option<chrono::NaiveDate> {
    let bytes = value.as_bytes();
    let shaped = bytes.len() == 10
        && bytes.iter().enumerate().all(|(i, b)| match i {
            4 | 7 => *b == b'-',
            _ => b.is_ascii_digit(),
        });
    if !shaped {
        return None;
    }
    chrono::NaiveDate::parse_from_str(value, "%Y-%m-%d").ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    const KNOWN: &[&str] = &["q", "level", "limit", "cursor"];

    #[test]
    fn decodes_and_reads_values() {
        let params = QueryParams::parse("q=Ñu%C3%B1oa+norte&limit=20&level=&cursor=");
        let mut reader = params.reader(KNOWN);
        assert_eq!(reader.text("q", 100).as_deref(), Some("Ñuñoa norte"));
        assert_eq!(
            reader.page(),
            PageRequest {
                limit: 20,
                after: None
            }
        );
        assert_eq!(reader.text("level", 10), None, "empty text is absent");
        reader.finish().unwrap();
        let params = QueryParams::parse("limit=");
        let mut reader = params.reader(KNOWN);
        reader.page();
        assert!(reader.finish().is_err(), "an empty number is not absent");
    }

    #[test]
    fn reports_every_problem_at_once() {
        let params = QueryParams::parse("limit=0&cursor=zzz&level=a&level=b&colour=red&q=%FF");
        let mut reader = params.reader(KNOWN);
        let _ = reader.page();
        let _ = reader.text("level", 10);
        let _ = reader.text("q", 10);
        let Err(ApiError::InvalidParameters(issues)) = reader.finish() else {
            panic!("expected invalid parameters");
        };
        let codes: Vec<(String, &str)> = issues
            .iter()
            .map(|i| match &i.location {
                crate::error::Location::Query(name) => (name.clone(), i.kind.code()),
                other => panic!("{other:?}"),
            })
            .collect();
        assert!(
            codes.contains(&("q".into(), "invalid_encoding")),
            "{codes:?}"
        );
        assert!(
            codes.contains(&("limit".into(), "out_of_range")),
            "{codes:?}"
        );
        assert!(
            codes.contains(&("cursor".into(), "invalid_cursor")),
            "{codes:?}"
        );
        assert!(
            codes.contains(&("level".into(), "repeated_parameter")),
            "{codes:?}"
        );
        assert!(
            codes.contains(&("colour".into(), "unknown_parameter")),
            "{codes:?}"
        );
        assert_eq!(codes.len(), 5, "{codes:?}");
    }
}
