//! Collecting the problems of a request body that a schema cannot state.
//!
//! Bodies are first checked against the documented schema (`contract`), which reports every
//! violation at once. What remains is semantic (does the territory exist, may the caller act
//! there, does the organisation referred to exist and have the right kind): a [`Validator`]
//! collects those issues, again all of them, before the request is answered.

use crate::error::{ApiError, Issue, IssueKind};

/// Collects every semantic issue of a body.
#[derive(Debug, Default)]
pub struct Validator {
    issues: Vec<Issue>,
}

impl Validator {
    pub fn new() -> Self {
        Validator::default()
    }

    pub fn issue(&mut self, pointer: impl Into<String>, kind: IssueKind) {
        self.issues.push(Issue::body(pointer, kind));
    }

    pub fn has_issues(&self) -> bool {
        !self.issues.is_empty()
    }

    /// Fails with every issue collected: 403 if one names a territory outside the caller's;
    /// 409 `dangling-reference` if every issue is a reference to something that does not
    /// exist (or that the caller cannot see), like a foreign key the current state cannot
    /// satisfy (the mirror of `in-use`); 422 otherwise. Not 404: that would say the resource
    /// addressed is missing, when it is a value in the body that refers to nothing.
    pub fn finish(self) -> Result<(), ApiError> {
        let issues = self.issues;
        if issues.is_empty() {
            Ok(())
        } else if issues.iter().any(|i| i.kind == IssueKind::ForeignTerritory) {
            Err(ApiError::ForeignTerritory(issues))
        } else if issues.iter().all(|i| {
            matches!(
                i.kind,
                IssueKind::UnknownTerritory | IssueKind::UnknownReference
            )
        }) {
            Err(ApiError::DanglingReference(issues))
        } else {
            Err(ApiError::Validation(issues))
        }
    }
}

/// Trims text the schema has already bounded and checked for a non-blank character.
pub fn text(value: &str) -> String {
    value.trim().to_owned()
}

/// Escapes a key for a JSON Pointer (RFC 6901): `~` → `~0`, `/` → `~1`.
pub fn escape_pointer(key: &str) -> String {
    key.replace('~', "~0").replace('/', "~1")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_status_follows_the_kind_of_issues() {
        let status = |kinds: Vec<IssueKind>| {
            let mut v = Validator::new();
            for kind in kinds {
                v.issue("/x", kind);
            }
            v.finish()
                .map_err(|e| actix_web::ResponseError::status_code(&e).as_u16())
        };
        assert_eq!(status(vec![]), Ok(()));
        assert_eq!(status(vec![IssueKind::UnknownTerritory]), Err(409));
        assert_eq!(
            status(vec![
                IssueKind::UnknownReference,
                IssueKind::UnknownTerritory
            ]),
            Err(409)
        );
        assert_eq!(
            status(vec![IssueKind::UnknownReference, IssueKind::Duplicate]),
            Err(422)
        );
        assert_eq!(
            status(vec![IssueKind::Duplicate, IssueKind::ForeignTerritory]),
            Err(403)
        );
        assert_eq!(escape_pointer("a/b~c"), "a~1b~0c");
    }
}
