//! API clients (`/api/v1/clients`): machine-to-machine credentials for `/oauth/token`.
//!
//! An administrator creates a client with a name, scopes and territories; the service generates
//! its secret, shows it once and keeps only an argon2id hash. Rotation issues a new secret,
//! optionally keeping the old one valid for an overlap; suspension (`active: false`) is
//! reversible; revocation deletes the client, at once and for good (the audit log keeps its
//! history). An
//! administrator sees and manages only clients whose territories all lie within its own, and
//! grants at most the scopes its own token holds.

use actix_web::http::header;
use actix_web::{HttpResponse, delete, get, patch, post, web};
use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::audit::AuditEntry;
use crate::auth::scopes::{self, ClientsRead, ClientsWrite};
use crate::auth::{Authorized, Principal, TerritoryScope, secrets};
use crate::catalog::{Catalogue, CatalogueEntry};
use crate::db::{Db, DbTime, DbUuid};
use crate::error::{ApiError, ApiResult, Issue, IssueKind, Resource};
use crate::json::Json;
use crate::openapi::responses;
use crate::pagination::into_page;
use crate::query::{NoParams, QueryParams};
use crate::repository::NameCursor;
use crate::repository::changes::Operation;
use crate::repository::clients::{self as repo, ClientRow};
use crate::routes::common::{check_patch, checked, merged, path_id, with_etag};

/// The longest overlap a rotation may keep the previous secret valid for: 7 days.
pub const MAX_OVERLAP_SECONDS: i64 = 7 * 24 * 3600;

/// An API client. Its secret is never shown again after creation or rotation.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "id": "019ab3c2-7d10-7a3e-8e44-2f7c1b9d0e70",
    "client_id": "019ab3c2-7d10-7a3e-8e44-2f7c1b9d0e70",
    "name": "SEREMI de Educación de La Araucanía: tablero regional",
    "contact": "integraciones@araucania.example.cl",
    "scopes": ["schools:read", "indicators:read"],
    "territories": [{"key": "CL-09", "name": "La Araucanía", "level": "region"}],
    "rate_limit": null,
    "status": "active",
    "created_at": "2026-11-24T12:00:00Z",
    "updated_at": "2026-11-24T12:00:00Z",
    "rotated_at": null,
    "previous_secret_expires_at": null,
    "last_used_at": "2026-11-24T12:05:00Z"
}))]
pub struct ApiClient {
    /// The client's id.
    pub id: Uuid,
    /// The same id, as the `client_id` of the client credentials grant.
    pub client_id: Uuid,
    pub name: String,
    /// Who to call about it (an e-mail address or a team).
    pub contact: Option<String>,
    /// The scopes its tokens may carry.
    pub scopes: Vec<String>,
    /// The territories its tokens act in.
    pub territories: Vec<ClientTerritory>,
    /// Sustained requests per second allowed to its tokens; `null`: the service's default.
    pub rate_limit: Option<i32>,
    /// `active`, or `suspended` (`active: false`; may be reactivated).
    pub status: ClientStatus,
    #[serde(serialize_with = "crate::json::timestamp")]
    pub created_at: DateTime<Utc>,
    #[serde(serialize_with = "crate::json::timestamp")]
    pub updated_at: DateTime<Utc>,
    /// When its secret was last rotated.
    #[serde(serialize_with = "crate::json::optional_timestamp")]
    pub rotated_at: Option<DateTime<Utc>>,
    /// Until when the secret before the last rotation is still accepted.
    #[serde(serialize_with = "crate::json::optional_timestamp")]
    pub previous_secret_expires_at: Option<DateTime<Utc>>,
    /// When it last obtained a token.
    #[serde(serialize_with = "crate::json::optional_timestamp")]
    pub last_used_at: Option<DateTime<Utc>>,
}

/// A territory of a client, with its name and level.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(example = json!({"key": "CL-09", "name": "La Araucanía", "level": "region"}))]
pub struct ClientTerritory {
    pub key: String,
    pub name: String,
    pub level: String,
}

/// `active`, or `suspended` (may be reactivated).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
#[schema(example = "active")]
pub enum ClientStatus {
    Active,
    Suspended,
}

/// A client just created: its id and its secret, shown this once.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "client_secret": "rds_9zQm1xGf0bT3o8wq6m2rY4lVhUjKc5sA7dPzE1nXyB0",
    "id": "019ab3c2-7d10-7a3e-8e44-2f7c1b9d0e70",
    "client_id": "019ab3c2-7d10-7a3e-8e44-2f7c1b9d0e70",
    "name": "SEREMI de Educación de La Araucanía: tablero regional",
    "contact": "integraciones@araucania.example.cl",
    "scopes": ["schools:read", "indicators:read"],
    "territories": [{"key": "CL-09", "name": "La Araucanía", "level": "region"}],
    "rate_limit": null,
    "status": "active",
    "created_at": "2026-11-24T12:00:00Z",
    "updated_at": "2026-11-24T12:00:00Z",
    "rotated_at": null,
    "previous_secret_expires_at": null,
    "last_used_at": null
}))]
pub struct CreatedClient {
    /// The secret for `/oauth/token`. Store it now: it is never shown again.
    pub client_secret: String,
    #[serde(flatten)]
    pub client: ApiClient,
}

/// A new secret after a rotation, shown this once.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "client_id": "019ab3c2-7d10-7a3e-8e44-2f7c1b9d0e70",
    "client_secret": "rds_9zQm1xGf0bT3o8wq6m2rY4lVhUjKc5sA7dPzE1nXyB0",
    "previous_secret_expires_at": "2026-11-25T12:00:00Z"
}))]
pub struct RotatedSecret {
    pub client_id: Uuid,
    /// The new secret. Store it now: it is never shown again.
    pub client_secret: String,
    /// Until when the previous secret is still accepted (`null`: no longer).
    #[serde(serialize_with = "crate::json::optional_timestamp")]
    pub previous_secret_expires_at: Option<DateTime<Utc>>,
}

/// The body of `POST /api/v1/clients`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({
    "name": "SEREMI de Educación de La Araucanía: tablero regional",
    "contact": "integraciones@araucania.example.cl",
    "scopes": ["schools:read", "indicators:read"],
    "territories": ["CL-09"]
}))]
pub struct ClientInput {
    /// 1-200 characters.
    #[schema(min_length = 1, max_length = 200)]
    pub name: String,
    /// Up to 200 characters.
    #[serde(default)]
    #[schema(max_length = 200)]
    pub contact: Option<String>,
    /// Scopes the caller holds itself; at least one.
    #[schema(min_items = 1, max_items = 50, inline)]
    pub scopes: Vec<ScopeName>,
    /// Territory keys or ids within the caller's territories; at least one.
    #[schema(min_items = 1, max_items = 50)]
    pub territories: Vec<String>,
    /// Sustained requests per second for its tokens, 1-100,000; absent or `null`: the
    /// service's default.
    #[serde(
        default,
        deserialize_with = "crate::routes::common::optional_whole_number"
    )]
    #[schema(minimum = 1, maximum = 100000)]
    pub rate_limit: Option<i32>,
    /// `false` suspends the client (its tokens stop working at once); default `true`.
    #[serde(default = "default_true")]
    pub active: bool,
}

fn default_true() -> bool {
    true
}

/// A scope name, one of the scopes Redes knows.
#[derive(Debug, Clone, Deserialize, Serialize, ToSchema)]
#[schema(value_type = String, example = "schools:read")]
pub struct ScopeName(pub String);

/// The body of `PATCH /api/v1/clients/{id}` (JSON merge patch): the fields to change.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"scopes": ["schools:read"], "active": false}))]
pub struct ClientPatch {
    #[schema(min_length = 1, max_length = 200)]
    pub name: Option<String>,
    #[schema(max_length = 200)]
    pub contact: Option<String>,
    #[schema(min_items = 1, max_items = 50)]
    pub scopes: Option<Vec<ScopeName>>,
    #[schema(min_items = 1, max_items = 50)]
    pub territories: Option<Vec<String>>,
    #[serde(
        default,
        deserialize_with = "crate::routes::common::optional_whole_number"
    )]
    #[schema(minimum = 1, maximum = 100000)]
    pub rate_limit: Option<i32>,
    pub active: Option<bool>,
}

/// The body of `POST /api/v1/clients/{id}/secret`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"overlap_seconds": 86400}))]
pub struct RotationInput {
    /// How long the current secret stays valid beside the new one, 0-604,800 seconds (7
    /// days); default 0: it stops working at once.
    #[serde(default, deserialize_with = "crate::routes::common::whole_number")]
    #[schema(minimum = 0, maximum = 604800)]
    pub overlap_seconds: i64,
}

/// A page of API clients, by name.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"items": [{
    "id": "019ab3c2-7d10-7a3e-8e44-2f7c1b9d0e70",
    "client_id": "019ab3c2-7d10-7a3e-8e44-2f7c1b9d0e70",
    "name": "SEREMI de Educación de La Araucanía: tablero regional",
    "contact": null,
    "scopes": ["schools:read"],
    "territories": [{"key": "CL-09", "name": "La Araucanía", "level": "region"}],
    "rate_limit": null, "status": "active",
    "created_at": "2026-11-24T12:00:00Z", "updated_at": "2026-11-24T12:00:00Z",
    "rotated_at": null, "previous_secret_expires_at": null, "last_used_at": null
}]}))]
pub struct ClientPage {
    pub items: Vec<ApiClient>,
    /// Pass as `cursor` for the next page; `null` on the last page.
    pub next_cursor: Option<String>,
}

#[derive(Debug, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ClientListParams {
    /// Page size, 1-500.
    #[param(minimum = 1, maximum = 500, default = 50)]
    pub limit: Option<i64>,
    /// The `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

impl ApiClient {
    pub fn from_row(row: &ClientRow, catalogue: &Catalogue) -> ApiClient {
        let status = if row.active {
            ClientStatus::Active
        } else {
            ClientStatus::Suspended
        };
        ApiClient {
            id: row.id.0,
            client_id: row.id.0,
            name: row.name.clone(),
            contact: row.contact.clone(),
            scopes: row.scope_list(),
            territories: row
                .territory_list()
                .iter()
                .map(|key| match catalogue.resolve_str(key) {
                    Some(entry) => territory(entry),
                    None => ClientTerritory {
                        key: key.clone(),
                        name: key.clone(),
                        level: String::new(),
                    },
                })
                .collect(),
            rate_limit: row.rate_limit,
            status,
            created_at: row.created_at.get(),
            updated_at: row.updated_at.get(),
            rotated_at: row.rotated_at.map(DbTime::get),
            previous_secret_expires_at: row
                .previous_secret_expires_at
                .map(DbTime::get)
                .filter(|at| *at > Utc::now()),
            last_used_at: row.last_used_at.map(DbTime::get),
        }
    }

    /// The client as a creation body (for merge patches).
    fn as_input(&self) -> Value {
        json!({
            "name": self.name,
            "contact": self.contact,
            "scopes": self.scopes,
            "territories": self.territories.iter().map(|t| &t.key).collect::<Vec<_>>(),
            "rate_limit": self.rate_limit,
            "active": self.status == ClientStatus::Active,
        })
    }
}

pub fn territory(entry: &CatalogueEntry) -> ClientTerritory {
    ClientTerritory {
        key: entry.key.to_string(),
        name: entry.name.clone(),
        level: serde_json::to_value(entry.level)
            .ok()
            .and_then(|v| v.as_str().map(str::to_owned))
            .unwrap_or_default(),
    }
}

/// The scopes and territories of a client body, checked: scopes known (and, for `granter`,
/// held by it), territories known (and within the granter's). Territories are stored by key.
pub fn checked_grants(
    scopes: &[ScopeName],
    territories: &[String],
    catalogue: &Catalogue,
    granter: Option<&Principal>,
) -> ApiResult<(String, String)> {
    let mut unknown = Vec::new();
    let mut not_held = Vec::new();
    let mut foreign = Vec::new();
    let mut scope_names: Vec<&str> = Vec::new();
    for (i, ScopeName(scope)) in scopes.iter().enumerate() {
        let pointer = format!("/scopes/{i}");
        if !scopes::ALL.contains(&scope.as_str()) {
            unknown.push(Issue::body(
                &pointer,
                IssueKind::InvalidValue {
                    expected_es: format!("uno de: {}", scopes::ALL.join(", ")),
                    expected_en: format!("one of: {}", scopes::ALL.join(", ")),
                },
            ));
        } else if granter.is_some_and(|p| !p.has_scope(scope)) {
            not_held.push(Issue::body(&pointer, IssueKind::ScopeNotHeld));
        } else if scope_names.contains(&scope.as_str()) {
            unknown.push(Issue::body(&pointer, IssueKind::Duplicate));
        } else {
            scope_names.push(scope);
        }
    }
    let granter_scope = granter.map(TerritoryScope::of);
    let mut keys: Vec<String> = Vec::new();
    for (i, reference) in territories.iter().enumerate() {
        let pointer = format!("/territories/{i}");
        match catalogue.resolve_str(reference) {
            None => unknown.push(Issue::body(&pointer, IssueKind::UnknownReference)),
            Some(entry) if granter_scope.as_ref().is_some_and(|s| !s.contains(entry)) => {
                foreign.push(Issue::body(&pointer, IssueKind::ForeignTerritory));
            }
            Some(entry) => {
                let key = entry.key.to_string();
                if keys.contains(&key) {
                    unknown.push(Issue::body(&pointer, IssueKind::Duplicate));
                } else {
                    keys.push(key);
                }
            }
        }
    }
    if !unknown.is_empty() {
        return Err(ApiError::Validation(unknown));
    }
    if !foreign.is_empty() {
        return Err(ApiError::ForeignTerritory(foreign));
    }
    if !not_held.is_empty() {
        return Err(ApiError::Escalation(not_held));
    }
    Ok((scope_names.join(" "), keys.join("\n")))
}

/// Whether a principal of this scope may see and manage the client: all its territories
/// within the scope.
fn manages(scope: &TerritoryScope, row: &ClientRow, catalogue: &Catalogue) -> bool {
    let territories = row.territory_list();
    !territories.is_empty()
        && territories.iter().all(|key| {
            catalogue
                .resolve_str(key)
                .is_some_and(|entry| scope.contains(entry))
        })
}

fn text(value: Option<&str>) -> Option<String> {
    value
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .map(str::to_owned)
}

fn required_text(value: &str, pointer: &str) -> ApiResult<String> {
    text(Some(value)).ok_or_else(|| {
        ApiError::Validation(vec![Issue::body(
            pointer,
            IssueKind::InvalidFormat {
                expected_es: "un texto no vacío".into(),
                expected_en: "a non-blank text".into(),
            },
        )])
    })
}

/// Where a client's audit entries are filed: the deepest territory containing all of its
/// territories (an administrator of that subtree reads them), or none if they span countries.
pub fn audit_path(row: &ClientRow, catalogue: &Catalogue) -> String {
    let paths: Vec<String> = row
        .territory_list()
        .iter()
        .filter_map(|key| catalogue.resolve_str(key).map(|e| e.path.clone()))
        .collect();
    let Some(first) = paths.first() else {
        return String::new();
    };
    let mut common: Vec<&str> = first.split_terminator('/').collect();
    for path in &paths[1..] {
        let segments: Vec<&str> = path.split_terminator('/').collect();
        let shared = common
            .iter()
            .zip(&segments)
            .take_while(|(a, b)| a == b)
            .count();
        common.truncate(shared);
    }
    // `/CL/CL-09/` splits into "", "CL", "CL-09": at least a country to file under.
    if common.len() < 2 {
        String::new()
    } else {
        format!("{}/", common.join("/"))
    }
}

/// The audit entry of a write to a client, with its state before and after (never a secret: a
/// rotation shows as `rotated_at` and `previous_secret_expires_at`).
pub fn audit_entry(
    operation: Operation,
    before: Option<&ClientRow>,
    after: Option<&ClientRow>,
    catalogue: &Catalogue,
) -> Option<AuditEntry> {
    let row = after.or(before)?;
    let snapshot = |row: &ClientRow| serde_json::to_value(ApiClient::from_row(row, catalogue)).ok();
    Some(AuditEntry::new(
        "api_client",
        row.id.0.to_string(),
        operation,
        audit_path(row, catalogue),
        before.and_then(snapshot).as_ref(),
        after.and_then(snapshot).as_ref(),
    ))
}

/// A new client row with a fresh secret (returned beside it, to show once).
pub fn new_client(
    input: ClientInput,
    catalogue: &Catalogue,
    granter: Option<&Principal>,
    created_by: &str,
) -> ApiResult<(ClientRow, String)> {
    let name = required_text(&input.name, "/name")?;
    let (scopes, territories) =
        checked_grants(&input.scopes, &input.territories, catalogue, granter)?;
    let secret = secrets::generate();
    let hash = secrets::hash(&secret).map_err(|e| ApiError::internal(anyhow::anyhow!("{e}")))?;
    let now = DbTime::now();
    Ok((
        ClientRow {
            id: DbUuid(Uuid::now_v7()),
            name,
            contact: text(input.contact.as_deref()),
            scopes,
            territories,
            rate_limit: input.rate_limit,
            active: input.active,
            secret_hash: hash,
            previous_secret_hash: None,
            previous_secret_expires_at: None,
            created_at: now,
            updated_at: now,
            rotated_at: None,
            last_used_at: None,
            created_by: created_by.to_owned(),
            version: 1,
        },
        secret,
    ))
}

/// The row after a rotation, and the new secret.
pub fn rotated(mut row: ClientRow, overlap_seconds: i64) -> ApiResult<(ClientRow, String)> {
    let secret = secrets::generate();
    let hash = secrets::hash(&secret).map_err(|e| ApiError::internal(anyhow::anyhow!("{e}")))?;
    let now = Utc::now();
    if overlap_seconds > 0 {
        row.previous_secret_hash = Some(std::mem::replace(&mut row.secret_hash, hash));
        row.previous_secret_expires_at =
            Some(DbTime::new(now + Duration::seconds(overlap_seconds)));
    } else {
        row.secret_hash = hash;
        row.previous_secret_hash = None;
        row.previous_secret_expires_at = None;
    }
    row.rotated_at = Some(DbTime::new(now));
    row.updated_at = DbTime::new(now);
    Ok((row, secret))
}

/// List API clients.
///
/// The clients whose territories all lie within the caller's, by name, suspended ones
/// included. Secrets are never listed.
#[utoipa::path(
    tag = "clients",
    operation_id = "list_clients",
    params(ClientListParams),
    responses(
        (status = 200, description = "A page of API clients.", body = ClientPage),
        (status = 400, response = responses::BadRequest),
        (status = 401, response = responses::Unauthorized),
        (status = 403, response = responses::Forbidden),
        (status = 503, response = responses::Unavailable),
    ),
    security(("bearer" = ["clients:read"]))
)]
#[get("/clients")]
pub async fn list_clients(
    auth: Authorized<ClientsRead>,
    query: QueryParams,
    db: web::Data<Db>,
    catalogue: web::Data<Catalogue>,
) -> ApiResult<Json<ClientPage>> {
    let mut reader = query.reader(&["limit", "cursor"]);
    let page = reader.page();
    let after = match page.after.as_deref().map(NameCursor::decode) {
        None => None,
        Some(Some(cursor)) => Some((cursor.name, cursor.id)),
        Some(None) => {
            reader.issue("cursor", IssueKind::InvalidCursor);
            None
        }
    };
    reader.finish()?;
    // Clients outside the caller's territories are skipped: read on until the page is full.
    const BATCH: i64 = 500;
    let wanted = usize::try_from(page.fetch_limit()).unwrap_or(1);
    let mut rows: Vec<ClientRow> = Vec::new();
    let mut after = after;
    let scope = TerritoryScope::of(&auth.principal);
    loop {
        let from = after.clone();
        let batch = db
            .read(move |conn| Ok(repo::list(conn, from.clone(), BATCH)?))
            .await?;
        let exhausted = batch.len() < BATCH as usize;
        after = batch.last().map(|r| (r.name.clone(), r.id.0));
        rows.extend(
            batch
                .into_iter()
                .filter(|row| manages(&scope, row, &catalogue)),
        );
        if rows.len() >= wanted || exhausted {
            break;
        }
    }
    rows.truncate(wanted);
    let (rows, next) = into_page(rows, &page, |row| NameCursor::encode(&row.name, row.id.0));
    Ok(Json(ClientPage {
        items: rows
            .iter()
            .map(|row| ApiClient::from_row(row, &catalogue))
            .collect(),
        next_cursor: next,
    }))
}

/// Create an API client.
///
/// Answers 201 with the client and its `client_secret`, shown this once: the service keeps
/// only a slow hash of it. The caller grants at most its own scopes (403 `scope-not-held`)
/// within its own territories (403 `foreign-territory`).
#[utoipa::path(
    tag = "clients",
    operation_id = "create_client",
    request_body(content = ClientInput, description = "The client."),
    responses(
        (status = 201, description = "Created; the secret is in the body, this once.",
            body = CreatedClient,
            headers(("Location" = String, description = "The client's URL."))),
        (status = 400, response = responses::MalformedBody),
        (status = 401, response = responses::Unauthorized),
        (status = 403, response = responses::ForbiddenTerritory),
        (status = 413, response = responses::PayloadTooLarge),
        (status = 415, response = responses::UnsupportedMediaType),
        (status = 422, response = responses::UnprocessableEntity),
        (status = 503, response = responses::Unavailable),
    ),
    security(("bearer" = ["clients:write"]))
)]
#[post("/clients")]
pub async fn create_client(
    auth: Authorized<ClientsWrite>,
    _query: NoParams,
    body: web::Json<Value>,
    db: web::Data<Db>,
    catalogue: web::Data<Catalogue>,
) -> ApiResult<HttpResponse> {
    let input = checked::<ClientInput>("create_client", &body)?;
    let principal = auth.principal;
    let catalogue_for_row = catalogue.clone();
    // Hashing is slow on purpose: off the async workers.
    let (row, secret) = web::block(move || {
        new_client(
            input,
            &catalogue_for_row,
            Some(&principal),
            &principal.subject,
        )
    })
    .await
    .map_err(ApiError::internal)??;
    let stored = row.clone();
    let entry = audit_entry(Operation::Created, None, Some(&row), &catalogue);
    db.write(move |tx| {
        repo::insert(tx.conn(), &stored)?;
        tx.audit_all(entry);
        Ok(())
    })
    .await?;
    let client = ApiClient::from_row(&row, &catalogue);
    Ok(HttpResponse::Created()
        .insert_header((
            header::LOCATION,
            format!("/api/v1/clients/{}", client.client_id),
        ))
        .insert_header((header::ETAG, "\"1\""))
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .json(CreatedClient {
            client_secret: secret,
            client,
        }))
}

async fn managed(
    principal: &Principal,
    raw_id: &str,
    db: &Db,
    catalogue: &Catalogue,
) -> ApiResult<ClientRow> {
    let id = path_id(Resource::Client, raw_id)?;
    let row = db.read(move |conn| Ok(repo::find(conn, id)?)).await?;
    match row {
        Some(row) if manages(&TerritoryScope::of(principal), &row, catalogue) => Ok(row),
        _ => Err(ApiError::not_found(Resource::Client, id)),
    }
}

/// Get an API client.
///
/// Its name, contact, scopes, territories, rate limit, status and times; never its secret.
#[utoipa::path(
    tag = "clients",
    operation_id = "get_client",
    params(("id" = Uuid, Path, description = "The client's id.")),
    responses(
        (status = 200, description = "The client (never its secret).", body = ApiClient,
            headers(("ETag" = String, description = "The version."))),
        (status = 400, response = responses::BadRequest),
        (status = 401, response = responses::Unauthorized),
        (status = 403, response = responses::Forbidden),
        (status = 404, response = responses::NotFound),
        (status = 503, response = responses::Unavailable),
    ),
    security(("bearer" = ["clients:read"]))
)]
#[get("/clients/{id}")]
pub async fn get_client(
    auth: Authorized<ClientsRead>,
    _query: NoParams,
    path: web::Path<String>,
    db: web::Data<Db>,
    catalogue: web::Data<Catalogue>,
) -> ApiResult<HttpResponse> {
    let row = managed(&auth.principal, &path, &db, &catalogue).await?;
    Ok(with_etag(
        HttpResponse::Ok(),
        row.version,
        &ApiClient::from_row(&row, &catalogue),
    ))
}

/// Change an API client.
///
/// A JSON merge patch of its name, contact, scopes, territories, rate limit or `active` flag.
/// `active: false` suspends it: its tokens stop working within `REDES_OAUTH_CLIENT_CACHE`
/// (5 s by default).
#[utoipa::path(
    tag = "clients",
    operation_id = "update_client",
    params(("id" = Uuid, Path, description = "The client's id.")),
    request_body(content = ClientPatch, description = "The fields to change.",
        content_type = "application/merge-patch+json"),
    responses(
        (status = 200, description = "The client as changed.", body = ApiClient,
            headers(("ETag" = String, description = "The new version."))),
        (status = 400, response = responses::MalformedBody),
        (status = 401, response = responses::Unauthorized),
        (status = 403, response = responses::ForbiddenTerritory),
        (status = 404, response = responses::NotFound),
        (status = 409, response = responses::Conflict),
        (status = 413, response = responses::PayloadTooLarge),
        (status = 415, response = responses::UnsupportedMediaType),
        (status = 422, response = responses::UnprocessableEntity),
        (status = 503, response = responses::Unavailable),
    ),
    security(("bearer" = ["clients:write"]))
)]
#[patch("/clients/{id}")]
pub async fn update_client(
    auth: Authorized<ClientsWrite>,
    _query: NoParams,
    path: web::Path<String>,
    body: web::Json<Value>,
    db: web::Data<Db>,
    catalogue: web::Data<Catalogue>,
) -> ApiResult<HttpResponse> {
    check_patch("update_client", &body)?;
    let mut row = managed(&auth.principal, &path, &db, &catalogue).await?;
    let before = row.clone();
    let current = ApiClient::from_row(&row, &catalogue).as_input();
    let input: ClientInput = merged("create_client", current, &body)?;
    row.name = required_text(&input.name, "/name")?;
    let (scopes, territories) = checked_grants(
        &input.scopes,
        &input.territories,
        &catalogue,
        Some(&auth.principal),
    )?;
    row.contact = text(input.contact.as_deref());
    row.scopes = scopes;
    row.territories = territories;
    row.rate_limit = input.rate_limit;
    row.active = input.active;
    row.updated_at = DbTime::now();
    let catalogue_for_audit = catalogue.clone();
    let row = db
        .write(move |tx| {
            repo::save(tx.conn(), &mut row)?;
            tx.audit_all(audit_entry(
                Operation::Updated,
                Some(&before),
                Some(&row),
                &catalogue_for_audit,
            ));
            Ok(row)
        })
        .await?;
    let version = row.version;
    Ok(with_etag(
        HttpResponse::Ok(),
        version,
        &ApiClient::from_row(&row, &catalogue),
    ))
}

/// Rotate an API client's secret.
///
/// Issues a new secret, shown this once. With `overlap_seconds`, the current secret keeps
/// working that long beside the new one, so that the integrator can deploy the new secret
/// without downtime; without it, the current secret stops working at once. Tokens already
/// issued stay valid until they expire.
#[utoipa::path(
    tag = "clients",
    operation_id = "rotate_client_secret",
    params(("id" = Uuid, Path, description = "The client's id.")),
    request_body(content = RotationInput, description = "The overlap (may be `{}`)."),
    responses(
        (status = 200, description = "The new secret, this once.", body = RotatedSecret),
        (status = 400, response = responses::MalformedBody),
        (status = 401, response = responses::Unauthorized),
        (status = 403, response = responses::Forbidden),
        (status = 404, response = responses::NotFound),
        (status = 409, response = responses::Conflict),
        (status = 413, response = responses::PayloadTooLarge),
        (status = 415, response = responses::UnsupportedMediaType),
        (status = 422, response = responses::UnprocessableEntity),
        (status = 503, response = responses::Unavailable),
    ),
    security(("bearer" = ["clients:write"]))
)]
#[post("/clients/{id}/secret")]
pub async fn rotate_client_secret(
    auth: Authorized<ClientsWrite>,
    _query: NoParams,
    path: web::Path<String>,
    body: web::Json<Value>,
    db: web::Data<Db>,
    catalogue: web::Data<Catalogue>,
) -> ApiResult<HttpResponse> {
    let input = checked::<RotationInput>("rotate_client_secret", &body)?;
    let row = managed(&auth.principal, &path, &db, &catalogue).await?;
    let overlap = input.overlap_seconds.clamp(0, MAX_OVERLAP_SECONDS);
    let before = row.clone();
    let (row, secret) = web::block(move || rotated(row, overlap))
        .await
        .map_err(ApiError::internal)??;
    let catalogue_for_audit = catalogue.clone();
    let row = db
        .write(move |tx| {
            let mut row = row;
            repo::save(tx.conn(), &mut row)?;
            tx.audit_all(audit_entry(
                Operation::Updated,
                Some(&before),
                Some(&row),
                &catalogue_for_audit,
            ));
            Ok(row)
        })
        .await?;
    Ok(HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .json(RotatedSecret {
            client_id: row.id.0,
            client_secret: secret,
            previous_secret_expires_at: row.previous_secret_expires_at.map(DbTime::get),
        }))
}

/// Revoke an API client.
///
/// Deletes it, for good: its secrets stop working at once, and its tokens within
/// `REDES_OAUTH_CLIENT_CACHE` (5 s by default) on every instance (at once on the instance that
/// revoked it). The audit log keeps its history. To stop a client for a while, suspend it
/// instead (`PATCH` with `active: false`).
#[utoipa::path(
    tag = "clients",
    operation_id = "revoke_client",
    params(("id" = Uuid, Path, description = "The client's id.")),
    responses(
        (status = 204, description = "Revoked."),
        (status = 400, response = responses::BadRequest),
        (status = 401, response = responses::Unauthorized),
        (status = 403, response = responses::Forbidden),
        (status = 404, response = responses::NotFound),
        (status = 503, response = responses::Unavailable),
    ),
    security(("bearer" = ["clients:write"]))
)]
#[delete("/clients/{id}")]
pub async fn revoke_client(
    auth: Authorized<ClientsWrite>,
    _query: NoParams,
    path: web::Path<String>,
    db: web::Data<Db>,
    catalogue: web::Data<Catalogue>,
    cache: web::Data<crate::oauth::ClientCache>,
) -> ApiResult<HttpResponse> {
    let row = managed(&auth.principal, &path, &db, &catalogue).await?;
    let id = row.id.0;
    let entry = audit_entry(Operation::Deleted, Some(&row), None, &catalogue);
    let deleted = db
        .write(move |tx| {
            let deleted = repo::delete(tx.conn(), id)?;
            if deleted {
                tx.audit_all(entry);
            }
            Ok(deleted)
        })
        .await?;
    cache.forget(id);
    if deleted {
        Ok(HttpResponse::NoContent().finish())
    } else {
        Err(ApiError::not_found(Resource::Client, id))
    }
}
