//! Request bodies are validated against the OpenAPI document itself.
//!
//! Each operation's request-body schema (from `openapi/openapi.json`, as served) is compiled once
//! into a JSON Schema 2020-12 validator. A body the document rejects is refused with every
//! violation at once, each with its JSON Pointer; a body it accepts reaches the handler's own
//! rules, which are only those a schema cannot state (does the territory exist, may the caller
//! act there, does the referenced organisation exist). The documented contract and the enforced
//! one cannot drift apart, because they are the same schema.

use std::collections::HashMap;

use jsonschema::error::{TypeKind, ValidationErrorKind};
use serde_json::{Value, json};

use crate::error::{ApiError, Issue, IssueKind};

static CONTRACT: std::sync::LazyLock<Result<Contract, String>> = std::sync::LazyLock::new(|| {
    crate::openapi::document()
        .map_err(anyhow::Error::from)
        .and_then(|doc| Contract::from_document(&doc))
        .map_err(|e| format!("{e:#}"))
});

/// This binary's contract, compiled once from its own OpenAPI document.
pub fn contract() -> Result<&'static Contract, ApiError> {
    CONTRACT
        .as_ref()
        .map_err(|e| ApiError::internal(anyhow::anyhow!("the contract does not compile: {e}")))
}

/// The compiled request-body schemas, by operation id.
pub struct Contract {
    bodies: HashMap<String, jsonschema::Validator>,
}

impl Contract {
    /// Compiles the request-body schema of every operation of the document.
    pub fn from_document(doc: &Value) -> anyhow::Result<Contract> {
        let components = doc.get("components").cloned().unwrap_or(Value::Null);
        let mut bodies = HashMap::new();
        for item in doc["paths"]
            .as_object()
            .into_iter()
            .flat_map(|p| p.values())
        {
            for operation in item.as_object().into_iter().flat_map(|o| o.values()) {
                let Some(id) = operation["operationId"].as_str() else {
                    continue;
                };
                let Some(content) = operation["requestBody"]["content"].as_object() else {
                    continue;
                };
                let Some(media) = content.values().next() else {
                    continue;
                };
                // `#/components/...` references resolve against this root, which holds only the
                // components this body refers to (all of them in every validator took ~100 MB).
                let schema = json!({
                    "$schema": "https://json-schema.org/draft/2020-12/schema",
                    "allOf": [media["schema"].clone()],
                    "components": referenced_components(&media["schema"], &components),
                });
                let validator = jsonschema::draft202012::options()
                    .should_validate_formats(true)
                    .build(&schema)
                    .map_err(|e| {
                        anyhow::anyhow!("the body schema of {id} does not compile: {e}")
                    })?;
                bodies.insert(id.to_owned(), validator);
            }
        }
        Ok(Contract { bodies })
    }

    /// The issues of `body` against the request-body schema of `operation_id`.
    pub fn issues(&self, operation_id: &str, body: &Value) -> Result<Vec<Issue>, ApiError> {
        let validator = self.bodies.get(operation_id).ok_or_else(|| {
            ApiError::internal(anyhow::anyhow!("no body schema for {operation_id}"))
        })?;
        let mut issues = Vec::new();
        for error in validator.iter_errors(body) {
            collect(&error, &mut issues);
        }
        // One issue per place: a value of the wrong type may also break its enum or pattern.
        let mut seen = std::collections::HashSet::new();
        issues.retain(|issue| seen.insert(format!("{:?}", issue.location)));
        Ok(issues)
    }

    /// Refuses `body` with 422 if the document does.
    pub fn check(&self, operation_id: &str, body: &Value) -> Result<(), ApiError> {
        let issues = self.issues(operation_id, body)?;
        if issues.is_empty() {
            Ok(())
        } else {
            Err(ApiError::Validation(issues))
        }
    }
}

/// The components `schema` refers to (`#/components/{kind}/{name}`), directly or through one
/// another, as a `components` object.
fn referenced_components(schema: &Value, components: &Value) -> Value {
    fn refs<'a>(value: &'a Value, found: &mut Vec<&'a str>) {
        match value {
            Value::Object(map) => {
                for (key, item) in map {
                    match (key.as_str(), item) {
                        ("$ref", Value::String(target)) => found.push(target),
                        _ => refs(item, found),
                    }
                }
            }
            Value::Array(items) => items.iter().for_each(|item| refs(item, found)),
            _ => {}
        }
    }
    let mut wanted = serde_json::Map::new();
    let mut seen = std::collections::HashSet::new();
    let mut pending = Vec::new();
    refs(schema, &mut pending);
    while let Some(target) = pending.pop() {
        let Some(path) = target.strip_prefix("#/components/") else {
            continue;
        };
        let Some((kind, name)) = path.split_once('/') else {
            continue;
        };
        if !seen.insert((kind, name)) {
            continue;
        }
        let Some(component) = components.get(kind).and_then(|k| k.get(name)) else {
            continue;
        };
        refs(component, &mut pending);
        if let Value::Object(of_kind) = wanted
            .entry(kind.to_owned())
            .or_insert_with(|| Value::Object(serde_json::Map::new()))
        {
            of_kind.insert(name.to_owned(), component.clone());
        }
    }
    Value::Object(wanted)
}

/// The issues of one error. For a value that matched none of several alternatives, an optional
/// field's `[schema, null]` pair above all, the errors of the one non-null alternative are the
/// useful ones.
fn collect(error: &jsonschema::ValidationError<'_>, issues: &mut Vec<Issue>) {
    let pointer = error.instance_path().as_str().to_owned();
    match error.kind() {
        ValidationErrorKind::AdditionalProperties { unexpected }
        | ValidationErrorKind::UnevaluatedProperties { unexpected } => {
            for name in unexpected {
                issues.push(Issue::body(
                    format!("{pointer}/{}", crate::body::escape_pointer(name)),
                    IssueKind::UnknownField { known: &[] },
                ));
            }
        }
        ValidationErrorKind::Required { property } => {
            let name = property.as_str().unwrap_or_default();
            issues.push(Issue::body(
                format!("{pointer}/{}", crate::body::escape_pointer(name)),
                IssueKind::Required,
            ));
        }
        ValidationErrorKind::AnyOf { context } | ValidationErrorKind::OneOfNotValid { context } => {
            let branches: Vec<&Vec<jsonschema::ValidationError<'static>>> = context
                .iter()
                .filter(|branch| !branch.iter().all(is_null_only))
                .collect();
            match branches.as_slice() {
                [only] => only.iter().for_each(|e| collect(e, issues)),
                _ => issues.push(Issue::body(pointer, issue_kind(error.kind()))),
            }
        }
        kind => issues.push(Issue::body(pointer, issue_kind(kind))),
    }
}

/// Whether an error only says "expected null" (the null alternative of an optional field).
fn is_null_only(error: &jsonschema::ValidationError<'_>) -> bool {
    matches!(
        error.kind(),
        ValidationErrorKind::Type { kind: TypeKind::Single(t) } if t.to_string() == "null"
    )
}

fn issue_kind(kind: &ValidationErrorKind) -> IssueKind {
    use ValidationErrorKind as K;
    let expected = |es: String, en: String| IssueKind::InvalidValue {
        expected_es: es,
        expected_en: en,
    };
    match kind {
        // A field whose only allowed type is null does not apply to this resource.
        K::Type {
            kind: TypeKind::Single(t),
        } if t.to_string() == "null" => IssueKind::NotApplicable,
        K::Type { kind } => {
            let names: Vec<&str> = match kind {
                TypeKind::Single(t) => vec![json_type(&t.to_string())],
                TypeKind::Multiple(ts) => ts.iter().map(|t| json_type(&t.to_string())).collect(),
            };
            let es: Vec<&str> = names.iter().map(|n| spanish_type(n)).collect();
            expected(es.join(" o "), names.join(" or "))
        }
        K::Enum { options } => {
            let values: Vec<String> = options
                .as_array()
                .map(|a| {
                    a.iter()
                        .map(|v| v.as_str().map_or_else(|| v.to_string(), str::to_owned))
                        .collect()
                })
                .unwrap_or_default();
            expected(
                format!("uno de: {}", values.join(", ")),
                format!("one of: {}", values.join(", ")),
            )
        }
        K::Constant { expected_value } => {
            expected(expected_value.to_string(), expected_value.to_string())
        }
        K::MaxLength { limit } => IssueKind::TooLong {
            max: usize::try_from(*limit).unwrap_or(usize::MAX),
        },
        K::MinLength { .. } => IssueKind::Empty,
        K::Minimum { limit } | K::ExclusiveMinimum { limit } => expected(
            format!("un valor de al menos {limit}"),
            format!("a value of at least {limit}"),
        ),
        K::Maximum { limit } | K::ExclusiveMaximum { limit } => expected(
            format!("un valor de a lo más {limit}"),
            format!("a value of at most {limit}"),
        ),
        K::MaxItems { limit } => expected(
            format!("a lo más {limit} elementos"),
            format!("at most {limit} items"),
        ),
        K::MinItems { limit } => expected(
            format!("al menos {limit} elementos"),
            format!("at least {limit} items"),
        ),
        K::UniqueItems => IssueKind::Duplicate,
        K::Pattern { pattern } => describe_pattern(pattern),
        K::Format { format } if format == "uuid" => {
            IssueKind::format("un UUID", "a UUID (8-4-4-4-12 hexadecimal digits)")
        }
        K::Format { format } => IssueKind::format(format.clone(), format.clone()),
        // A field that must be absent (or null) for this resource's country or kind.
        K::FalseSchema => IssueKind::NotApplicable,
        // A key of a map that does not have the required form (a work plan's year).
        K::PropertyNames { error } => issue_kind(error.kind()),
        _ => expected(
            "un valor conforme al esquema documentado".into(),
            "a value that conforms to the documented schema".into(),
        ),
    }
}

/// The documented patterns, for people.
fn describe_pattern(pattern: &str) -> IssueKind {
    if pattern == crate::openapi::NAME_PATTERN {
        IssueKind::format(
            "texto con al menos un carácter visible y sin caracteres NUL",
            "text with at least one non-blank character and no NUL character",
        )
    } else if pattern.contains("CL") || pattern.contains("CO") {
        IssueKind::format(
            format!(
                "la clave de un territorio del nivel que corresponde, o su id (patrón {pattern})"
            ),
            format!("the key of a territory at the right level, or its id (pattern {pattern})"),
        )
    } else if pattern == crate::domain::codes::RUT_PATTERN {
        IssueKind::format("un RUT como 69.190.700-7", "a RUT such as 69.190.700-7")
    } else if pattern == "^[0-9]{12}$" {
        IssueKind::format("12 dígitos", "12 digits")
    } else if pattern == "^[0-9Kk]$" {
        IssueKind::format("un dígito o K", "a digit or K")
    } else if pattern == "^[0-9]{1,8}$" {
        IssueKind::format("de 1 a 8 dígitos", "1 to 8 digits")
    } else if pattern == crate::openapi::YEAR_PATTERN {
        IssueKind::format(
            "un año entre 1900 y 2100 como clave",
            "a year between 1900 and 2100 as the key",
        )
    } else {
        IssueKind::format(
            format!("el patrón {pattern}"),
            format!("the pattern {pattern}"),
        )
    }
}

fn json_type(name: &str) -> &'static str {
    match name {
        "string" => "string",
        "integer" => "integer",
        "number" => "number",
        "boolean" => "boolean",
        "array" => "array",
        "object" => "object",
        "null" => "null",
        _ => "value",
    }
}

fn spanish_type(name: &str) -> &'static str {
    match name {
        "string" => "texto",
        "integer" => "un número entero",
        "number" => "un número",
        "boolean" => "true o false",
        "array" => "una lista",
        "object" => "un objeto",
        "null" => "null",
        _ => "un valor",
    }
}
