//! Pieces every writable resource's handlers share: territories named in bodies, merge patches,
//! ETag responses, unique-value conflicts.

use actix_web::HttpResponse;
use actix_web::http::header;
use serde::Serialize;
use serde_json::Value;
use utoipa::ToSchema;

use crate::auth::TerritoryScope;
use serde::de::DeserializeOwned;

use crate::body::Validator;
use crate::catalog::{Catalogue, CatalogueEntry};
use crate::contract::contract;
use crate::domain::{Country, TerritoryLevel, TerritoryRef};
use crate::error::{ApiError, ApiResult, Issue, IssueKind, Resource};
use crate::etag::etag_header;

/// Resolves the territory a body names (key or id) and checks that it is at one of `levels`,
/// in `country` when given, and in the caller's scope.
pub fn body_territory<'c>(
    v: &mut Validator,
    pointer: &str,
    value: &str,
    catalogue: &'c Catalogue,
    scope: &TerritoryScope,
    country: Option<Country>,
    levels: &[TerritoryLevel],
) -> Option<&'c CatalogueEntry> {
    let Ok(reference) = TerritoryRef::parse(value) else {
        v.issue(pointer, IssueKind::InvalidTerritory);
        return None;
    };
    let Some(entry) = catalogue.resolve(&reference) else {
        v.issue(pointer, IssueKind::UnknownTerritory);
        return None;
    };
    if let Some(country) = country
        && entry.country() != country
    {
        v.issue(
            pointer,
            IssueKind::WrongCountry {
                country: country.as_str(),
            },
        );
        return None;
    }
    if !levels.contains(&entry.level) {
        v.issue(
            pointer,
            IssueKind::WrongTerritoryLevel {
                allowed: levels.iter().map(|l| l.as_str()).collect(),
            },
        );
        return None;
    }
    if !scope.contains(entry) {
        v.issue(pointer, IssueKind::ForeignTerritory);
        return None;
    }
    Some(entry)
}

/// A body checked against the documented schema of `operation_id`, then read into `T` (which
/// cannot fail once the schema passed: `T` is what the schema was generated from).
pub fn checked<T: DeserializeOwned>(operation_id: &str, body: &Value) -> ApiResult<T> {
    contract()?.check(operation_id, body)?;
    read_into(body)
}

fn read_into<T: DeserializeOwned>(body: &Value) -> ApiResult<T> {
    serde_json::from_value(body.clone()).map_err(|e| {
        ApiError::Validation(vec![Issue::body(
            "",
            IssueKind::InvalidBody {
                detail: e.to_string(),
            },
        )])
    })
}

/// A merge patch checked against its documented schema.
pub fn check_patch(operation_id: &str, patch: &Value) -> ApiResult<()> {
    contract()?.check(operation_id, patch)
}

/// The resource's current writable fields with a (checked) patch merged in, read into `T`.
/// A merged document the replace schema refuses is a conflict with the resource's current
/// state (409), not a malformed request: the patch alone was well formed.
pub fn merged<T: DeserializeOwned>(
    replace_operation_id: &str,
    mut document: Value,
    patch: &Value,
) -> ApiResult<T> {
    merge_patch(&mut document, patch);
    let issues = contract()?.issues(replace_operation_id, &document)?;
    if !issues.is_empty() {
        return Err(ApiError::StateConflict(issues));
    }
    read_into(&document)
}

/// For a merged patch, the rules the merged document breaks are a conflict with the current
/// state too.
pub fn in_state<T>(result: ApiResult<T>) -> ApiResult<T> {
    result.map_err(|error| match error {
        ApiError::Validation(issues) => ApiError::StateConflict(issues),
        other => other,
    })
}

/// A field that cannot change once the resource exists.
pub fn immutable(pointer: &str) -> ApiError {
    ApiError::StateConflict(vec![Issue::body(pointer, IssueKind::Immutable)])
}

/// Applies a JSON merge patch (RFC 7396) to `target`.
pub fn merge_patch(target: &mut Value, patch: &Value) {
    match patch {
        Value::Object(members) => {
            if !target.is_object() {
                *target = Value::Object(serde_json::Map::new());
            }
            if let Value::Object(object) = target {
                for (key, value) in members {
                    if value.is_null() {
                        object.remove(key);
                    } else {
                        merge_patch(object.entry(key.clone()).or_insert(Value::Null), value);
                    }
                }
            }
        }
        other => *target = other.clone(),
    }
}

/// A unique index refused the write: which field, if it is one of `fields`.
pub fn taken(error: diesel::result::Error, fields: &[&str]) -> ApiError {
    if let diesel::result::Error::DatabaseError(
        diesel::result::DatabaseErrorKind::UniqueViolation,
        info,
    ) = &error
    {
        let text = format!(
            "{} {}",
            info.message(),
            info.constraint_name().unwrap_or("")
        );
        if let Some(field) = fields.iter().find(|f| text.contains(*f)) {
            return ApiError::Taken(vec![Issue::body(format!("/{field}"), IssueKind::Taken)]);
        }
    }
    ApiError::from(error)
}

/// A JSON number that is a whole number, as JSON Schema counts integers: `2015` and `2015.0`
/// alike (the contract accepts both, so the handler must read both).
fn whole(number: &serde_json::Number) -> Option<i64> {
    number.as_i64().or_else(|| {
        number
            .as_f64()
            .filter(|f| f.fract() == 0.0 && f.abs() < 1e15)
            .map(|f| f as i64)
    })
}

/// Deserializes an optional whole number written as a JSON integer or an integral float, into
/// any integer type it fits (`Option<i32>`, `Option<i64>`).
pub fn optional_whole_number<'de, D, T>(deserializer: D) -> Result<Option<T>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: TryFrom<i64>,
{
    match <Option<serde_json::Number> as serde::Deserialize>::deserialize(deserializer)? {
        None => Ok(None),
        Some(number) => whole(&number)
            .and_then(|n| T::try_from(n).ok())
            .map(Some)
            .ok_or_else(|| serde::de::Error::custom("not a whole number")),
    }
}

/// The id in a path: a UUID, or else 404 for that resource (no id of another form exists).
pub fn path_id(resource: Resource, raw: &str) -> ApiResult<uuid::Uuid> {
    crate::domain::territory::parse_uuid(raw)
        .ok_or_else(|| ApiError::not_found(resource, raw.chars().take(100).collect::<String>()))
}

/// Trimmed text, or `None` when blank.
pub fn optional_text(value: Option<&str>) -> Option<String> {
    value.map(crate::body::text).filter(|t| !t.is_empty())
}

/// Trimmed list items without the blank ones, as the JSON text a list column holds.
pub fn text_list(values: Option<Vec<String>>) -> ApiResult<String> {
    let items: Vec<String> = values
        .unwrap_or_default()
        .iter()
        .map(|item| crate::body::text(item))
        .filter(|item| !item.is_empty())
        .collect();
    serde_json::to_string(&items).map_err(ApiError::internal)
}

/// Deserializes a required whole number written as a JSON integer or an integral float.
pub fn whole_number<'de, D, T>(deserializer: D) -> Result<T, D::Error>
where
    D: serde::Deserializer<'de>,
    T: TryFrom<i64>,
{
    let number = <serde_json::Number as serde::Deserialize>::deserialize(deserializer)?;
    whole(&number)
        .and_then(|n| T::try_from(n).ok())
        .ok_or_else(|| serde::de::Error::custom("not a whole number"))
}

/// A JSON response with the resource's ETag.
pub fn with_etag<T: Serialize>(
    mut response: actix_web::HttpResponseBuilder,
    version: i64,
    body: &T,
) -> HttpResponse {
    response.insert_header(etag_header(version));
    crate::json::respond(response, body)
}

/// 304 for a client whose copy is current.
pub fn not_modified(version: i64) -> HttpResponse {
    HttpResponse::NotModified()
        .insert_header(etag_header(version))
        .finish()
}

/// 201 with `Location` and `ETag`.
pub fn created<T: Serialize>(location: String, version: i64, body: &T) -> HttpResponse {
    let mut response = HttpResponse::Created();
    response.insert_header((header::LOCATION, location));
    with_etag(response, version, body)
}

/// Something the data says that deserves attention but does not make it invalid, such as an
/// RBD check digit that does not match (published Mineduc data has some).
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(example = json!({
    "pointer": "/rbd_dv", "code": "rbd_check_digit_mismatch",
    "message": "The RBD check digit does not match its number (it should be 1)."
}))]
pub struct Warning {
    /// JSON Pointer to the field concerned.
    pub pointer: String,
    /// A stable, machine-readable code.
    pub code: String,
    /// What is worth checking, in the client's language.
    pub message: String,
}

/// The root territory of `country` (`CL`, `CO`) when the caller's territories include all of
/// it; otherwise 403 `foreign_territory` at `pointer`. For what only a principal of a whole
/// country may change (catalogue items, indicator definitions).
pub fn whole_country<'c>(
    catalogue: &'c Catalogue,
    country: &str,
    scope: &TerritoryScope,
    pointer: &str,
) -> ApiResult<&'c CatalogueEntry> {
    let root = catalogue
        .resolve_str(country)
        .ok_or_else(|| ApiError::internal(anyhow::anyhow!("no country territory {country}")))?;
    if !scope.contains(root) {
        return Err(ApiError::ForeignTerritory(vec![Issue::body(
            pointer,
            IssueKind::ForeignTerritory,
        )]));
    }
    Ok(root)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn merge_patch_follows_rfc_7396() {
        let mut target = json!({"a": "b", "c": {"d": "e", "f": "g"}, "k": [1]});
        merge_patch(
            &mut target,
            &json!({"a": "z", "c": {"f": null}, "k": [2], "n": 1}),
        );
        assert_eq!(target, json!({"a": "z", "c": {"d": "e"}, "k": [2], "n": 1}));
    }
}
