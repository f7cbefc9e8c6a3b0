//! `/api/v1/networks`: networks of schools and their dated members.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use actix_web::{HttpResponse, delete, get, patch, post, put, web};
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::auth::scopes::{NetworksRead, NetworksWrite};
use crate::auth::{Authorized, TerritoryScope};
use crate::body::{Validator, text};
use crate::catalog::Catalogue;
use crate::db::{Db, DbConnection, DbUuid};
use crate::domain::Country;
use crate::domain::network::{MemberKind, MemberRole, NetworkKind, NetworkStatus};
use crate::domain::text::fold;
use crate::domain::{TerritoryLevel, TerritoryRef};
use crate::error::{ApiError, ApiResult, Issue, IssueKind, Resource};
use crate::etag::Preconditions;
use crate::json::Json;
use crate::openapi::responses;
use crate::pagination::into_page;
use crate::query::{NoParams, QueryParams, parse_date};
use crate::repository::networks::{
    self as repo, MemberData, MemberFilter, MemberRow, NetworkData, NetworkFilter, NetworkRow,
};
use crate::repository::{NameCursor, UpdateOutcome, organizations, schools};
use crate::routes::common::{
    body_territory, check_patch, checked, created, in_state, merged, not_modified, optional_text,
    with_etag,
};
use crate::routes::common::{path_id, text_list};

/// A network's plan for one year (the year is its key in `work_plans`).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({
    "objectives": ["Articular el PEI, el PME y los planes normativos"],
    "topics": ["Análisis de los sellos del PEI", "Fases del PME"],
    "hilo_conductor": "La articulación pedagógica de los instrumentos de gestión"
}))]
pub struct WorkPlan {
    /// What the network means to achieve that year.
    #[serde(default)]
    #[schema(max_items = 50)]
    pub objectives: Vec<String>,
    /// The topics its sessions will take up.
    #[serde(default)]
    #[schema(max_items = 100)]
    pub topics: Vec<String>,
    /// The thread that links the year's sessions (*hilo conductor*).
    #[serde(default)]
    #[schema(max_length = 2000)]
    pub hilo_conductor: Option<String>,
}

/// A network of schools: a Chilean *Red de Mejoramiento Escolar*, a professional learning
/// community, a cohort of Colombian Secretarías, an alliance.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(example = json!({
    "id": "0f8b5f4e-8a57-5d0e-9a55-9d3f0c7e2a11",
    "name": "Red de Escuelas Municipales de la comuna de Freire",
    "kind": "red_mejoramiento_escolar",
    "country": "CL",
    "territory": "CL-09105",
    "territory_id": "c5a2e2ea-c6dc-517a-820d-0af97cd0b3f0",
    "responsible_id": null,
    "founded_year": 2015,
    "status": "active",
    "status_since": null,
    "principles_and_needs": "Mejorar los aprendizajes de los estudiantes de la comuna.",
    "objective": "Fortalecer las prácticas pedagógicas a través del trabajo colaborativo.",
    "mobilisation": ["Comparten prácticas pedagógicas en cada sesión."],
    "collaboration": ["Se visitan entre establecimientos."],
    "learnings": ["La red es un espacio de aprendizaje entre pares."],
    "idea_fuerza": "Aprender juntos para mejorar.",
    "challenges": ["Sostener el trabajo en el tiempo."],
    "work_plans": {"2017": {"objectives": ["Articular el PEI, el PME y los planes normativos"],
        "topics": ["Sellos del PEI"], "hilo_conductor": null}},
    "created_at": "2026-11-23T19:23:00.123456Z",
    "updated_at": "2026-11-23T19:23:00.123456Z"
}))]
pub struct Network {
    pub id: Uuid,
    /// The network's name.
    pub name: String,
    pub kind: NetworkKind,
    /// The country of its territory.
    pub country: Country,
    /// The key of the territory it works in: a comuna, provincia or región; a municipio or
    /// departamento; or the country for a national network.
    pub territory: String,
    pub territory_id: Uuid,
    /// The organisation responsible for it (a DEPROV, a sostenedor, a Secretaría, a ministry,
    /// a centre).
    pub responsible_id: Option<Uuid>,
    /// The year it started working.
    pub founded_year: Option<i32>,
    pub status: NetworkStatus,
    /// Since when it has had its status.
    pub status_since: Option<NaiveDate>,
    /// The principles and needs that brought it together.
    pub principles_and_needs: Option<String>,
    /// Its objective.
    pub objective: Option<String>,
    /// How its members mobilise the objective.
    pub mobilisation: Vec<String>,
    /// How collaboration shows in its work.
    pub collaboration: Vec<String>,
    /// Its learnings and achievements.
    pub learnings: Vec<String>,
    /// Its *idea fuerza*: the main learning, in one sentence.
    pub idea_fuerza: Option<String>,
    /// Its challenges ahead.
    pub challenges: Vec<String>,
    /// Its yearly work plans, keyed by year (`"2017"`), in order.
    pub work_plans: BTreeMap<i32, WorkPlan>,
    #[serde(serialize_with = "crate::json::timestamp")]
    pub created_at: DateTime<Utc>,
    #[serde(serialize_with = "crate::json::timestamp")]
    pub updated_at: DateTime<Utc>,
}

/// The body of `POST` and `PUT /api/v1/networks`. The country follows from the territory.
#[derive(Debug, Deserialize, ToSchema)]
#[schema(example = json!({
    "name": "Red de Escuelas Municipales de la comuna de Freire",
    "kind": "red_mejoramiento_escolar",
    "territory": "CL-09105",
    "founded_year": 2015,
    "objective": "Fortalecer las prácticas pedagógicas a través del trabajo colaborativo.",
    "mobilisation": ["Comparten prácticas pedagógicas en cada sesión."]
}))]
pub struct NetworkInput {
    /// The network's name (1-200 characters, not blank; trimmed).
    #[schema(example = "Red Básica 1", min_length = 1, max_length = 200)]
    pub name: String,
    pub kind: NetworkKind,
    /// The territory it works in, by key or id, at any level; it must be in the caller's
    /// territories.
    #[schema(example = "CL-09105")]
    pub territory: String,
    /// The responsible organisation: one the caller sees, or one whose territory contains the
    /// network's (a ministry for a national network).
    #[serde(default)]
    pub responsible_id: Option<Uuid>,
    /// The year it started working, 1900-2100.
    #[serde(
        default,
        deserialize_with = "crate::routes::common::optional_whole_number"
    )]
    #[schema(minimum = 1900, maximum = 2100, example = 2015)]
    pub founded_year: Option<i32>,
    /// `active` when absent.
    #[serde(default)]
    pub status: Option<NetworkStatus>,
    /// Since when it has had its status, `YYYY-MM-DD`.
    #[serde(default)]
    pub status_since: Option<NaiveDate>,
    /// Up to 5,000 characters.
    #[serde(default)]
    #[schema(max_length = 5000)]
    pub principles_and_needs: Option<String>,
    /// Up to 5,000 characters.
    #[serde(default)]
    #[schema(max_length = 5000)]
    pub objective: Option<String>,
    /// Up to 50 items of up to 2,000 characters.
    #[serde(default)]
    #[schema(max_items = 50)]
    pub mobilisation: Option<Vec<String>>,
    /// Up to 50 items of up to 2,000 characters.
    #[serde(default)]
    #[schema(max_items = 50)]
    pub collaboration: Option<Vec<String>>,
    /// Up to 50 items of up to 2,000 characters.
    #[serde(default)]
    #[schema(max_items = 50)]
    pub learnings: Option<Vec<String>>,
    /// Up to 5,000 characters.
    #[serde(default)]
    #[schema(max_length = 5000)]
    pub idea_fuerza: Option<String>,
    /// Up to 50 items of up to 2,000 characters.
    #[serde(default)]
    #[schema(max_items = 50)]
    pub challenges: Option<Vec<String>>,
    /// Yearly plans keyed by year (`"2017"`, 1900-2100), up to 50.
    #[serde(default)]
    pub work_plans: Option<BTreeMap<i32, WorkPlan>>,
}

/// The body of `PATCH /api/v1/networks/{id}`: a JSON merge patch of the network's fields
/// (lists are replaced whole). `null` removes an optional field.
#[derive(Debug, ToSchema)]
#[schema(example = json!({"status": "paused", "status_since": "2026-03-01"}))]
#[expect(
    dead_code,
    reason = "documents the PATCH body; the patch is merged as JSON"
)]
pub struct NetworkPatch {
    #[schema(min_length = 1, max_length = 200)]
    name: Option<String>,
    kind: Option<NetworkKind>,
    territory: Option<String>,
    responsible_id: Option<Uuid>,
    #[schema(minimum = 1900, maximum = 2100)]
    founded_year: Option<i32>,
    status: Option<NetworkStatus>,
    status_since: Option<NaiveDate>,
    #[schema(max_length = 5000)]
    principles_and_needs: Option<String>,
    #[schema(max_length = 5000)]
    objective: Option<String>,
    #[schema(max_items = 50)]
    mobilisation: Option<Vec<String>>,
    #[schema(max_items = 50)]
    collaboration: Option<Vec<String>>,
    #[schema(max_items = 50)]
    learnings: Option<Vec<String>>,
    #[schema(max_length = 5000)]
    idea_fuerza: Option<String>,
    #[schema(max_items = 50)]
    challenges: Option<Vec<String>>,
    work_plans: Option<BTreeMap<i32, WorkPlan>>,
}

/// What validating a body needs.
pub struct Context {
    pub catalogue: Arc<Catalogue>,
    pub scope: TerritoryScope,
}

/// The rules of a network no schema can state: its territory exists and is the caller's, the
/// responsible organisation exists and may be referred to.
pub fn validate(
    input: NetworkInput,
    ctx: &Context,
    conn: &mut DbConnection,
) -> ApiResult<NetworkData> {
    let mut v = Validator::new();
    let territory = body_territory(
        &mut v,
        "/territory",
        &input.territory,
        &ctx.catalogue,
        &ctx.scope,
        None,
        &TerritoryLevel::ALL,
    );
    if let (Some(id), Some(territory)) = (input.responsible_id, territory)
        && organizations::find_referable(conn, id, &ctx.scope, &territory.path)?.is_none()
    {
        v.issue("/responsible_id", IssueKind::UnknownReference);
    }
    v.finish()?;
    let territory = territory.ok_or_else(|| ApiError::internal(anyhow::anyhow!("no territory")))?;
    let plans: BTreeMap<i32, WorkPlan> = input
        .work_plans
        .unwrap_or_default()
        .into_iter()
        .map(|(year, plan)| {
            let plan = WorkPlan {
                objectives: plan.objectives.iter().map(|o| text(o)).collect(),
                topics: plan.topics.iter().map(|t| text(t)).collect(),
                hilo_conductor: optional_text(plan.hilo_conductor.as_deref()),
            };
            (year, plan)
        })
        .collect();
    Ok(NetworkData {
        search_name: fold(&text(&input.name)),
        name: text(&input.name),
        kind: input.kind.as_str().to_owned(),
        country: territory.country().as_str().to_owned(),
        territory_id: DbUuid(territory.id),
        territory_path: territory.path.clone(),
        responsible_id: input.responsible_id.map(DbUuid),
        founded_year: input.founded_year,
        status: input
            .status
            .unwrap_or(NetworkStatus::Active)
            .as_str()
            .to_owned(),
        status_since: input.status_since.map(|d| d.to_string()),
        principles_and_needs: optional_text(input.principles_and_needs.as_deref()),
        objective: optional_text(input.objective.as_deref()),
        idea_fuerza: optional_text(input.idea_fuerza.as_deref()),
        mobilisation: text_list(input.mobilisation)?,
        collaboration: text_list(input.collaboration)?,
        learnings: text_list(input.learnings)?,
        challenges: text_list(input.challenges)?,
        work_plans: serde_json::to_string(&plans).map_err(ApiError::internal)?,
    })
}

impl Network {
    pub fn from_row(row: NetworkRow, catalogue: &Catalogue) -> ApiResult<Network> {
        let id = row.id.0;
        let corrupt =
            |what: &str| ApiError::internal(anyhow::anyhow!("network {id} has a bad {what}"));
        let territory = catalogue
            .resolve(&TerritoryRef::Id(row.territory_id.0))
            .ok_or_else(|| corrupt("territory"))?;
        let list = |json: &str, what: &str| -> ApiResult<Vec<String>> {
            serde_json::from_str(json).map_err(|_| corrupt(what))
        };
        Ok(Network {
            id,
            kind: row.kind.parse().map_err(|()| corrupt("kind"))?,
            country: row.country.parse().map_err(|()| corrupt("country"))?,
            territory: territory.key.to_string(),
            territory_id: row.territory_id.0,
            responsible_id: row.responsible_id.map(|r| r.0),
            founded_year: row.founded_year,
            status: row.status.parse().map_err(|()| corrupt("status"))?,
            status_since: row
                .status_since
                .as_deref()
                .map(|d| parse_date(d).ok_or_else(|| corrupt("status_since")))
                .transpose()?,
            mobilisation: list(&row.mobilisation, "mobilisation")?,
            collaboration: list(&row.collaboration, "collaboration")?,
            learnings: list(&row.learnings, "learnings")?,
            challenges: list(&row.challenges, "challenges")?,
            work_plans: serde_json::from_str(&row.work_plans).map_err(|_| corrupt("work_plans"))?,
            name: row.name,
            principles_and_needs: row.principles_and_needs,
            objective: row.objective,
            idea_fuerza: row.idea_fuerza,
            created_at: row.created_at.get(),
            updated_at: row.updated_at.get(),
        })
    }

    /// The writable fields, as a body: what a PATCH is merged into.
    fn as_input(&self) -> Value {
        json!({
            "name": self.name,
            "kind": self.kind,
            "territory": self.territory,
            "responsible_id": self.responsible_id,
            "founded_year": self.founded_year,
            "status": self.status,
            "status_since": self.status_since,
            "principles_and_needs": self.principles_and_needs,
            "objective": self.objective,
            "mobilisation": self.mobilisation,
            "collaboration": self.collaboration,
            "learnings": self.learnings,
            "idea_fuerza": self.idea_fuerza,
            "challenges": self.challenges,
            "work_plans": self.work_plans,
        })
    }
}

/// A page of networks.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"items": [], "next_cursor": null}))]
pub struct NetworkPage {
    pub items: Vec<Network>,
    /// Pass as `cursor` for the next page; `null` on the last page.
    pub next_cursor: Option<String>,
}

/// Filters of `GET /api/v1/networks`.
#[derive(Debug, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct NetworkListParams {
    /// Only these kinds (repeatable).
    #[param(inline)]
    pub kind: Option<Vec<NetworkKind>>,
    /// Only these statuses (repeatable).
    #[param(inline)]
    pub status: Option<Vec<NetworkStatus>>,
    /// Only this country's networks.
    #[param(inline)]
    pub country: Option<Country>,
    /// Only networks whose territory is in this territory's subtree (key or id), e.g. `CL-09`.
    #[param(example = "CL-09")]
    pub territory: Option<String>,
    /// Name search, ignoring case and accents.
    #[param(example = "freire", max_length = 100)]
    pub q: Option<String>,
    /// Page size, 1-500.
    #[param(minimum = 1, maximum = 500, default = 50)]
    pub limit: Option<i64>,
    /// The `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

const LIST_PARAMS: &[&str] = &[
    "kind",
    "status",
    "country",
    "territory",
    "q",
    "limit",
    "cursor",
];

/// List networks.
///
/// The networks the caller sees, by name: those in the caller's territories and those with a
/// member school (past or present) in them. Filter by kind, status, country, territory
/// subtree and name.
#[utoipa::path(
    tag = "networks",
    operation_id = "list_networks",
    params(NetworkListParams),
    responses(
        (status = 200, description = "A page of networks.", body = NetworkPage),
        (status = 400, response = responses::BadRequest),
        (status = 401, response = responses::Unauthorized),
        (status = 403, response = responses::Forbidden),
        (status = 404, response = responses::UnknownReference),
        (status = 503, response = responses::Unavailable),
    ),
    security(("bearer" = ["networks:read"]))
)]
#[get("/networks")]
pub async fn list_networks(
    auth: Authorized<NetworksRead>,
    query: QueryParams,
    db: web::Data<Db>,
    catalogue: web::Data<Catalogue>,
) -> ApiResult<Json<NetworkPage>> {
    let mut reader = query.reader(LIST_PARAMS);
    let kinds: Vec<NetworkKind> = reader.choices("kind", NetworkKind::NAMES);
    let statuses: Vec<NetworkStatus> = reader.choices("status", NetworkStatus::NAMES);
    let filter = NetworkFilter {
        kinds: kinds.iter().map(|k| k.as_str().to_owned()).collect(),
        statuses: statuses.iter().map(|s| s.as_str().to_owned()).collect(),
        country: reader
            .choice::<Country>("country", Country::NAMES)
            .map(|c| c.as_str().to_owned()),
        territory_path: reader
            .territory("territory", &catalogue)
            .map(|t| t.path.clone()),
        name_contains: reader.text("q", 100),
        page: reader.page(),
    };
    if filter
        .page
        .after
        .as_deref()
        .is_some_and(|c| NameCursor::decode(c).is_none())
    {
        reader.issue("cursor", IssueKind::InvalidCursor);
    }
    reader.finish()?;
    let scope = TerritoryScope::of(&auth.principal);
    let page = filter.page.clone();
    let rows = db
        .read(move |conn| Ok(repo::list(conn, &filter, &scope)?))
        .await?;
    let (rows, next) = into_page(rows, &page, |row| {
        NameCursor::encode(&row.search_name, row.id.0)
    });
    Ok(Json(NetworkPage {
        items: rows
            .into_iter()
            .map(|row| Network::from_row(row, &catalogue))
            .collect::<ApiResult<_>>()?,
        next_cursor: next,
    }))
}

/// Create a network.
///
/// In a territory of the caller's. Answers 201 with the network, its `Location` and `ETag`.
#[utoipa::path(
    tag = "networks",
    operation_id = "create_network",
    request_body(content = NetworkInput, description = "The new network."),
    responses(
        (status = 201, description = "Created.", body = Network,
            headers(("ETag" = String, description = "The version, for If-Match."),
                    ("Location" = String, description = "The network's URL."))),
        (status = 400, response = responses::MalformedBody),
        (status = 401, response = responses::Unauthorized),
        (status = 403, response = responses::ForbiddenTerritory),
        (status = 409, response = responses::Conflict),
        (status = 413, response = responses::PayloadTooLarge),
        (status = 415, response = responses::UnsupportedMediaType),
        (status = 422, response = responses::UnprocessableEntity),
        (status = 503, response = responses::Unavailable),
    ),
    security(("bearer" = ["networks:write"]))
)]
#[post("/networks")]
pub async fn create_network(
    auth: Authorized<NetworksWrite>,
    _query: NoParams,
    body: web::Json<Value>,
    db: web::Data<Db>,
    catalogue: web::Data<Catalogue>,
) -> ApiResult<HttpResponse> {
    let ctx = Context {
        catalogue: catalogue.clone().into_inner(),
        scope: TerritoryScope::of(&auth.principal),
    };
    let input = checked::<NetworkInput>("create_network", &body)?;
    let row = db
        .write(move |tx| {
            let data = validate(input, &ctx, tx.conn())?;
            Ok(repo::insert(tx, Uuid::now_v7(), &data)?)
        })
        .await?;
    let version = row.version;
    let network = Network::from_row(row, &catalogue)?;
    Ok(created(
        format!("/api/v1/networks/{}", network.id),
        version,
        &network,
    ))
}

/// Get a network.
///
/// With its `ETag`; `If-None-Match` with the current ETag answers 304.
#[utoipa::path(
    tag = "networks",
    operation_id = "get_network",
    params(("id" = Uuid, Path, description = "The network's id.")),
    responses(
        (status = 200, description = "The network.", body = Network,
            headers(("ETag" = String, description = "The version, for If-Match and If-None-Match."))),
        (status = 304, description = "Not modified: the `If-None-Match` ETag is current."),
        (status = 400, response = responses::BadRequest),
        (status = 401, response = responses::Unauthorized),
        (status = 403, response = responses::Forbidden),
        (status = 404, response = responses::NotFound),
        (status = 503, response = responses::Unavailable),
    ),
    security(("bearer" = ["networks:read"]))
)]
#[get("/networks/{id}")]
pub async fn get_network(
    auth: Authorized<NetworksRead>,
    _query: NoParams,
    path: web::Path<String>,
    preconditions: Preconditions,
    db: web::Data<Db>,
    catalogue: web::Data<Catalogue>,
) -> ApiResult<HttpResponse> {
    let id = path_id(Resource::Network, &path)?;
    let scope = TerritoryScope::of(&auth.principal);
    let row = db
        .read_short(move |conn| Ok(repo::find(conn, id, &scope)?))
        .await?
        .ok_or_else(|| ApiError::not_found(Resource::Network, id))?;
    if preconditions.not_modified(row.version) {
        return Ok(not_modified(row.version));
    }
    let version = row.version;
    Ok(with_etag(
        HttpResponse::Ok(),
        version,
        &Network::from_row(row, &catalogue)?,
    ))
}

/// The network the caller sees, for a write: 403 when it is seen only through a member school
/// (its own territory is not the caller's).
pub fn writable(
    conn: &mut DbConnection,
    id: Uuid,
    scope: &TerritoryScope,
) -> ApiResult<NetworkRow> {
    let row =
        repo::find(conn, id, scope)?.ok_or_else(|| ApiError::not_found(Resource::Network, id))?;
    if !scope.contains_path(&row.territory_path) {
        return Err(ApiError::ForeignTerritory(vec![Issue::body(
            "/territory",
            IssueKind::ForeignTerritory,
        )]));
    }
    Ok(row)
}

/// Replaces (PUT) or merges (PATCH) a network.
async fn update(
    auth: Authorized<NetworksWrite>,
    raw_id: &str,
    body: Value,
    merge: bool,
    preconditions: Preconditions,
    db: web::Data<Db>,
    catalogue: web::Data<Catalogue>,
) -> ApiResult<HttpResponse> {
    let id = path_id(Resource::Network, raw_id)?;
    let replacement = if merge {
        check_patch("update_network", &body)?;
        None
    } else {
        Some(checked::<NetworkInput>("replace_network", &body)?)
    };
    let ctx = Context {
        catalogue: catalogue.clone().into_inner(),
        scope: TerritoryScope::of(&auth.principal),
    };
    let row = db
        .write(move |tx| {
            let current = writable(tx.conn(), id, &ctx.scope)?;
            preconditions.check_write(current.version)?;
            let data = match replacement {
                Some(input) => validate(input, &ctx, tx.conn())?,
                None => {
                    let document = Network::from_row(current.clone(), &ctx.catalogue)?;
                    let input: NetworkInput =
                        merged("replace_network", document.as_input(), &body)?;
                    in_state(validate(input, &ctx, tx.conn()))?
                }
            };
            match repo::update(tx, &current, &data)? {
                UpdateOutcome::Done(row) => Ok(row),
                UpdateOutcome::Concurrent => Err(ApiError::ConcurrentChange),
            }
        })
        .await?;
    let version = row.version;
    Ok(with_etag(
        HttpResponse::Ok(),
        version,
        &Network::from_row(row, &catalogue)?,
    ))
}

/// Replace a network.
///
/// The whole network, as in `POST`. With `If-Match`, answers 412 if it changed since.
#[utoipa::path(
    tag = "networks",
    operation_id = "replace_network",
    params(("id" = Uuid, Path, description = "The network's id.")),
    request_body(content = NetworkInput, description = "The network, whole."),
    responses(
        (status = 200, description = "Replaced.", body = Network,
            headers(("ETag" = String, description = "The new version."))),
        (status = 400, response = responses::MalformedBody),
        (status = 401, response = responses::Unauthorized),
        (status = 403, response = responses::ForbiddenTerritory),
        (status = 404, response = responses::NotFound),
        (status = 409, response = responses::Conflict),
        (status = 412, response = responses::PreconditionFailed),
        (status = 413, response = responses::PayloadTooLarge),
        (status = 415, response = responses::UnsupportedMediaType),
        (status = 422, response = responses::UnprocessableEntity),
        (status = 503, response = responses::Unavailable),
    ),
    security(("bearer" = ["networks:write"]))
)]
#[put("/networks/{id}")]
pub async fn replace_network(
    auth: Authorized<NetworksWrite>,
    _query: NoParams,
    path: web::Path<String>,
    body: web::Json<Value>,
    preconditions: Preconditions,
    db: web::Data<Db>,
    catalogue: web::Data<Catalogue>,
) -> ApiResult<HttpResponse> {
    update(
        auth,
        &path,
        body.into_inner(),
        false,
        preconditions,
        db,
        catalogue,
    )
    .await
}

/// Change a network.
///
/// A JSON merge patch (RFC 7396): the fields given replace (lists whole), `null` removes an
/// optional field. With `If-Match`, answers 412 if it changed since.
#[utoipa::path(
    tag = "networks",
    operation_id = "update_network",
    params(("id" = Uuid, Path, description = "The network's id.")),
    request_body(content = NetworkPatch, description = "The fields to change.",
        content_type = "application/merge-patch+json"),
    responses(
        (status = 200, description = "Changed.", body = Network,
            headers(("ETag" = String, description = "The new version."))),
        (status = 400, response = responses::MalformedBody),
        (status = 401, response = responses::Unauthorized),
        (status = 403, response = responses::ForbiddenTerritory),
        (status = 404, response = responses::NotFound),
        (status = 409, response = responses::Conflict),
        (status = 412, response = responses::PreconditionFailed),
        (status = 413, response = responses::PayloadTooLarge),
        (status = 415, response = responses::UnsupportedMediaType),
        (status = 422, response = responses::UnprocessableEntity),
        (status = 503, response = responses::Unavailable),
    ),
    security(("bearer" = ["networks:write"]))
)]
#[patch("/networks/{id}")]
pub async fn update_network(
    auth: Authorized<NetworksWrite>,
    _query: NoParams,
    path: web::Path<String>,
    body: web::Json<Value>,
    preconditions: Preconditions,
    db: web::Data<Db>,
    catalogue: web::Data<Catalogue>,
) -> ApiResult<HttpResponse> {
    update(
        auth,
        &path,
        body.into_inner(),
        true,
        preconditions,
        db,
        catalogue,
    )
    .await
}

/// Delete a network.
///
/// With its memberships (each deletion appears in the change feed); answers 409 while it has
/// sessions, improvement cycles, visits, indicator values, or a plan's action linked to one of
/// its objectives. With `If-Match`, answers 412 if it changed since.
#[utoipa::path(
    tag = "networks",
    operation_id = "delete_network",
    params(("id" = Uuid, Path, description = "The network's id.")),
    responses(
        (status = 204, description = "Deleted."),
        (status = 400, response = responses::BadRequest),
        (status = 401, response = responses::Unauthorized),
        (status = 403, response = responses::ForbiddenTerritory),
        (status = 404, response = responses::NotFound),
        (status = 409, response = responses::Conflict),
        (status = 412, response = responses::PreconditionFailed),
        (status = 503, response = responses::Unavailable),
    ),
    security(("bearer" = ["networks:write"]))
)]
#[delete("/networks/{id}")]
pub async fn delete_network(
    auth: Authorized<NetworksWrite>,
    _query: NoParams,
    path: web::Path<String>,
    preconditions: Preconditions,
    db: web::Data<Db>,
) -> ApiResult<HttpResponse> {
    let id = path_id(Resource::Network, &path)?;
    let scope = TerritoryScope::of(&auth.principal);
    db.write(move |tx| {
        let current = writable(tx.conn(), id, &scope)?;
        preconditions.check_write(current.version)?;
        if crate::repository::sessions::network_has_sessions(tx.conn(), id)?
            || crate::repository::plans::is_link_target(tx.conn(), id)?
            || crate::repository::improvement_cycles::network_has_cycles(tx.conn(), id)?
            || crate::repository::mentoring_visits::network_has_visits(tx.conn(), id)?
            || crate::repository::indicators::org_unit_has_values(tx.conn(), id)?
        {
            return Err(ApiError::InUse);
        }
        match repo::delete(tx, &current)? {
            UpdateOutcome::Done(()) => Ok(()),
            UpdateOutcome::Concurrent => Err(ApiError::ConcurrentChange),
        }
    })
    .await?;
    Ok(HttpResponse::NoContent().finish())
}

// Members.

/// The scope in which the caller may read people's names, if they may read people at all.
fn people_scope(principal: &crate::auth::Principal) -> Option<TerritoryScope> {
    use crate::auth::scopes::{PeopleRead, Scope};
    principal
        .has_scope(PeopleRead::NAME)
        .then(|| TerritoryScope::of(principal))
}

/// A membership: a school or an organisation in a network, with a role, over a period.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(example = json!({
    "id": "019ab3c2-7d10-7a3e-8e44-2f7c1b9d0e55",
    "network_id": "0f8b5f4e-8a57-5d0e-9a55-9d3f0c7e2a11",
    "school_id": "56109f40-17b6-42a2-80a0-1ee14ff99828",
    "organization_id": null,
    "person_id": null,
    "name": "Liceo Juan Schleyer",
    "role": "member_school",
    "joined_on": "2016-01-01",
    "left_on": null,
    "created_at": "2026-11-23T19:23:00.123456Z",
    "updated_at": "2026-11-23T19:23:00.123456Z"
}))]
pub struct Member {
    pub id: Uuid,
    pub network_id: Uuid,
    /// The member school, for a school member.
    pub school_id: Option<Uuid>,
    /// The member organisation, for an organisation member.
    pub organization_id: Option<Uuid>,
    /// The member person, for a person member.
    pub person_id: Option<Uuid>,
    /// The school's or organisation's name; a person's only for a caller who may read that
    /// person (`people:read` in their territory), `null` otherwise.
    pub name: Option<String>,
    pub role: MemberRole,
    /// The first day of membership; `null`: since before records.
    pub joined_on: Option<NaiveDate>,
    /// The first day it is no longer a member; `null`: still a member.
    pub left_on: Option<NaiveDate>,
    #[serde(serialize_with = "crate::json::timestamp")]
    pub created_at: DateTime<Utc>,
    #[serde(serialize_with = "crate::json::timestamp")]
    pub updated_at: DateTime<Utc>,
}

/// The body of `POST /api/v1/networks/{id}/members` and of `PUT` on a member: exactly one of
/// `school_id`, `organization_id` and `person_id`.
#[derive(Debug, Deserialize, ToSchema)]
#[schema(example = json!({
    "school_id": "56109f40-17b6-42a2-80a0-1ee14ff99828",
    "role": "member_school",
    "joined_on": "2016-01-01"
}))]
pub struct MemberInput {
    /// A school the caller sees.
    #[serde(default)]
    pub school_id: Option<Uuid>,
    /// An organisation the caller sees, or one whose territory contains the network's.
    #[serde(default)]
    pub organization_id: Option<Uuid>,
    /// A person in the caller's territories.
    #[serde(default)]
    pub person_id: Option<Uuid>,
    pub role: MemberRole,
    /// The first day of membership, `YYYY-MM-DD`; absent: since before records.
    #[serde(default)]
    pub joined_on: Option<NaiveDate>,
    /// The first day it is no longer a member, after `joined_on`; absent: still a member.
    #[serde(default)]
    pub left_on: Option<NaiveDate>,
}

/// The body of `PATCH` on a member: a JSON merge patch. The member itself cannot change;
/// typically `{"left_on": "2018-03-01"}`.
#[derive(Debug, ToSchema)]
#[schema(example = json!({"left_on": "2018-03-01"}))]
#[expect(
    dead_code,
    reason = "documents the PATCH body; the patch is merged as JSON"
)]
pub struct MemberPatch {
    role: Option<MemberRole>,
    joined_on: Option<NaiveDate>,
    left_on: Option<NaiveDate>,
}

/// The rules of a membership no schema can state: one member, visible to the caller, a
/// period that ends after it starts and does not overlap the same member's in the same role.
pub fn validate_member(
    input: &MemberInput,
    network: &NetworkRow,
    except: Option<Uuid>,
    ctx: &Context,
    conn: &mut DbConnection,
) -> ApiResult<MemberData> {
    let mut v = Validator::new();
    match (input.school_id, input.organization_id, input.person_id) {
        (None, None, Some(person)) => {
            if crate::repository::people::find(conn, person, &ctx.scope)?.is_none() {
                v.issue("/person_id", IssueKind::UnknownReference);
            }
        }
        (Some(school), None, None) => {
            if schools::find(conn, school, &ctx.scope)?.is_none() {
                v.issue("/school_id", IssueKind::UnknownReference);
            }
        }
        (None, Some(organization), None) => {
            if organizations::find_referable(
                conn,
                organization,
                &ctx.scope,
                &network.territory_path,
            )?
            .is_none()
            {
                v.issue("/organization_id", IssueKind::UnknownReference);
            }
        }
        // The schema requires exactly one; this guards the match.
        _ => return Err(ApiError::internal(anyhow::anyhow!("unchecked member"))),
    }
    if let (Some(joined), Some(left)) = (input.joined_on, input.left_on)
        && left <= joined
    {
        v.issue("/left_on", IssueKind::NotAfter { field: "joined_on" });
    }
    let data = MemberData {
        school_id: input.school_id.map(DbUuid),
        organization_id: input.organization_id.map(DbUuid),
        person_id: input.person_id.map(DbUuid),
        role: input.role.as_str().to_owned(),
        joined_on: input.joined_on.map(|d| d.to_string()),
        left_on: input.left_on.map(|d| d.to_string()),
    };
    if !v.has_issues() {
        let others = repo::same_member_periods(conn, network.id.0, &data, except)?;
        if others.iter().any(|other| overlaps(&data, other)) {
            return Err(ApiError::StateConflict(vec![Issue::body(
                "/joined_on",
                IssueKind::Overlap,
            )]));
        }
    }
    v.finish()?;
    Ok(data)
}

/// Whether two half-open periods `[joined_on, left_on)` share a day (open ends are unbounded).
fn overlaps(data: &MemberData, other: &MemberRow) -> bool {
    let starts_before_other_ends = match (&data.joined_on, &other.left_on) {
        (Some(start), Some(end)) => start < end,
        _ => true,
    };
    let other_starts_before_end = match (&other.joined_on, &data.left_on) {
        (Some(start), Some(end)) => start < end,
        _ => true,
    };
    starts_before_other_ends && other_starts_before_end
}

impl Member {
    fn from_row(row: MemberRow, names: &HashMap<Uuid, String>) -> ApiResult<Member> {
        let id = row.id.0;
        let corrupt =
            |what: &str| ApiError::internal(anyhow::anyhow!("member {id} has a bad {what}"));
        let date = |value: Option<&str>, what: &str| {
            value
                .map(|d| parse_date(d).ok_or_else(|| corrupt(what)))
                .transpose()
        };
        let member = row
            .school_id
            .or(row.organization_id)
            .or(row.person_id)
            .ok_or_else(|| corrupt("member"))?;
        Ok(Member {
            id,
            network_id: row.network_id.0,
            school_id: row.school_id.map(|s| s.0),
            organization_id: row.organization_id.map(|o| o.0),
            person_id: row.person_id.map(|p| p.0),
            name: names.get(&member.0).cloned(),
            role: row.role.parse().map_err(|()| corrupt("role"))?,
            joined_on: date(row.joined_on.as_deref(), "joined_on")?,
            left_on: date(row.left_on.as_deref(), "left_on")?,
            created_at: row.created_at.get(),
            updated_at: row.updated_at.get(),
        })
    }

    fn as_input(&self) -> Value {
        json!({
            "school_id": self.school_id,
            "organization_id": self.organization_id,
            "person_id": self.person_id,
            "role": self.role,
            "joined_on": self.joined_on,
            "left_on": self.left_on,
        })
    }
}

/// A page of members.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"items": [], "next_cursor": null}))]
pub struct MemberPage {
    pub items: Vec<Member>,
    /// Pass as `cursor` for the next page; `null` on the last page.
    pub next_cursor: Option<String>,
}

/// Filters of `GET /api/v1/networks/{id}/members`.
#[derive(Debug, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct MemberListParams {
    /// Only the members on this date (`YYYY-MM-DD`): joined on or before it and not left on
    /// or before it. Without it, every membership, past and present: the history.
    #[param(example = "2015-06-01")]
    pub on: Option<NaiveDate>,
    /// Only these roles (repeatable).
    #[param(inline)]
    pub role: Option<Vec<MemberRole>>,
    /// Only school, organisation or person members.
    #[param(inline)]
    pub member_kind: Option<MemberKind>,
    /// Page size, 1-500.
    #[param(minimum = 1, maximum = 500, default = 50)]
    pub limit: Option<i64>,
    /// The `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

const MEMBER_PARAMS: &[&str] = &["on", "role", "member_kind", "limit", "cursor"];

/// List a network's members.
///
/// In the order they were recorded. With `on`, the members on that date; without, every
/// membership, past and present.
#[utoipa::path(
    tag = "networks",
    operation_id = "list_network_members",
    params(("id" = Uuid, Path, description = "The network's id."), MemberListParams),
    responses(
        (status = 200, description = "A page of members.", body = MemberPage),
        (status = 400, response = responses::BadRequest),
        (status = 401, response = responses::Unauthorized),
        (status = 403, response = responses::Forbidden),
        (status = 404, response = responses::NotFound),
        (status = 503, response = responses::Unavailable),
    ),
    security(("bearer" = ["networks:read"]))
)]
#[get("/networks/{id}/members")]
pub async fn list_network_members(
    auth: Authorized<NetworksRead>,
    query: QueryParams,
    path: web::Path<String>,
    db: web::Data<Db>,
) -> ApiResult<Json<MemberPage>> {
    let mut reader = query.reader(MEMBER_PARAMS);
    let roles: Vec<MemberRole> = reader.choices("role", MemberRole::NAMES);
    let filter = MemberFilter {
        on: reader.date("on").map(|d| d.to_string()),
        roles: roles.iter().map(|r| r.as_str().to_owned()).collect(),
        member_kind: reader
            .choice::<MemberKind>("member_kind", MemberKind::NAMES)
            .map(|k| k.as_str().to_owned()),
        page: reader.page(),
    };
    // Cursors have the form of the name-ordered lists' (an empty name), so that any list's
    // cursor reads here too; member lists page by id alone.
    if filter
        .page
        .after
        .as_deref()
        .is_some_and(|c| NameCursor::decode(c).is_none())
    {
        reader.issue("cursor", IssueKind::InvalidCursor);
    }
    reader.finish()?;
    let id = path_id(Resource::Network, &path)?;
    let scope = TerritoryScope::of(&auth.principal);
    let people = people_scope(&auth.principal);
    let page = filter.page.clone();
    let (rows, names) = db
        .read(move |conn| {
            repo::find(conn, id, &scope)?
                .ok_or_else(|| ApiError::not_found(Resource::Network, id))?;
            let rows = repo::list_members(conn, id, &filter)?;
            let names = repo::member_names(conn, &rows, people.as_ref())?;
            Ok((rows, names))
        })
        .await?;
    let (rows, next) = into_page(rows, &page, |row| NameCursor::encode("", row.id.0));
    Ok(Json(MemberPage {
        items: rows
            .into_iter()
            .map(|row| Member::from_row(row, &names))
            .collect::<ApiResult<_>>()?,
        next_cursor: next,
    }))
}

/// Add a member to a network.
///
/// A school or an organisation, with its role and the period. Answers 409 when the period
/// overlaps another of the same member in the same role.
#[utoipa::path(
    tag = "networks",
    operation_id = "create_network_member",
    params(("id" = Uuid, Path, description = "The network's id.")),
    request_body(content = MemberInput, description = "The membership."),
    responses(
        (status = 201, description = "Added.", body = Member,
            headers(("ETag" = String, description = "The version, for If-Match."),
                    ("Location" = String, description = "The membership's URL."))),
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
    security(("bearer" = ["networks:write"]))
)]
#[post("/networks/{id}/members")]
pub async fn create_network_member(
    auth: Authorized<NetworksWrite>,
    _query: NoParams,
    path: web::Path<String>,
    body: web::Json<Value>,
    db: web::Data<Db>,
    catalogue: web::Data<Catalogue>,
) -> ApiResult<HttpResponse> {
    let network_id = path_id(Resource::Network, &path)?;
    let input = checked::<MemberInput>("create_network_member", &body)?;
    let people = people_scope(&auth.principal);
    let ctx = Context {
        catalogue: catalogue.into_inner(),
        scope: TerritoryScope::of(&auth.principal),
    };
    let (row, names) = db
        .write(move |tx| {
            let network = writable(tx.conn(), network_id, &ctx.scope)?;
            let data = validate_member(&input, &network, None, &ctx, tx.conn())?;
            let row = repo::insert_member(tx, Uuid::now_v7(), &network, &data)?;
            let names = repo::member_names(tx.conn(), std::slice::from_ref(&row), people.as_ref())?;
            Ok((row, names))
        })
        .await?;
    let version = row.version;
    let member = Member::from_row(row, &names)?;
    Ok(created(
        format!("/api/v1/networks/{network_id}/members/{}", member.id),
        version,
        &member,
    ))
}

/// Get a member of a network.
///
/// One membership, with the member's name, its role and period, and its `ETag`.
#[utoipa::path(
    tag = "networks",
    operation_id = "get_network_member",
    params(("id" = Uuid, Path, description = "The network's id."),
        ("member_id" = Uuid, Path, description = "The membership's id.")),
    responses(
        (status = 200, description = "The membership.", body = Member,
            headers(("ETag" = String, description = "The version, for If-Match and If-None-Match."))),
        (status = 304, description = "Not modified: the `If-None-Match` ETag is current."),
        (status = 400, response = responses::BadRequest),
        (status = 401, response = responses::Unauthorized),
        (status = 403, response = responses::Forbidden),
        (status = 404, response = responses::NotFound),
        (status = 503, response = responses::Unavailable),
    ),
    security(("bearer" = ["networks:read"]))
)]
#[get("/networks/{id}/members/{member_id}")]
pub async fn get_network_member(
    auth: Authorized<NetworksRead>,
    _query: NoParams,
    path: web::Path<(String, String)>,
    preconditions: Preconditions,
    db: web::Data<Db>,
) -> ApiResult<HttpResponse> {
    let (network_id, member_id) = path.into_inner();
    let network_id = path_id(Resource::Network, &network_id)?;
    let member_id = path_id(Resource::Member, &member_id)?;
    let scope = TerritoryScope::of(&auth.principal);
    let people = people_scope(&auth.principal);
    let (row, names) = db
        .read(move |conn| {
            repo::find(conn, network_id, &scope)?
                .ok_or_else(|| ApiError::not_found(Resource::Network, network_id))?;
            let row = repo::find_member(conn, network_id, member_id)?
                .ok_or_else(|| ApiError::not_found(Resource::Member, member_id))?;
            let names = repo::member_names(conn, std::slice::from_ref(&row), people.as_ref())?;
            Ok((row, names))
        })
        .await?;
    if preconditions.not_modified(row.version) {
        return Ok(not_modified(row.version));
    }
    let version = row.version;
    Ok(with_etag(
        HttpResponse::Ok(),
        version,
        &Member::from_row(row, &names)?,
    ))
}

/// Replaces (PUT) or merges (PATCH) a membership.
#[expect(clippy::too_many_arguments, reason = "the extractors of two handlers")]
async fn update_member(
    auth: Authorized<NetworksWrite>,
    raw: (String, String),
    body: Value,
    merge: bool,
    preconditions: Preconditions,
    db: web::Data<Db>,
    catalogue: web::Data<Catalogue>,
    operation: &str,
) -> ApiResult<HttpResponse> {
    let network_id = path_id(Resource::Network, &raw.0)?;
    let member_id = path_id(Resource::Member, &raw.1)?;
    let replacement = if merge {
        check_patch(operation, &body)?;
        None
    } else {
        Some(checked::<MemberInput>(operation, &body)?)
    };
    let people = people_scope(&auth.principal);
    let ctx = Context {
        catalogue: catalogue.into_inner(),
        scope: TerritoryScope::of(&auth.principal),
    };
    let (row, names) = db
        .write(move |tx| {
            let network = writable(tx.conn(), network_id, &ctx.scope)?;
            let current = repo::find_member(tx.conn(), network_id, member_id)?
                .ok_or_else(|| ApiError::not_found(Resource::Member, member_id))?;
            preconditions.check_write(current.version)?;
            let names =
                repo::member_names(tx.conn(), std::slice::from_ref(&current), people.as_ref())?;
            let document = Member::from_row(current.clone(), &names)?;
            let input: MemberInput = match replacement {
                Some(input) => input,
                None => merged("replace_network_member", document.as_input(), &body)?,
            };
            let same_member = input.school_id == document.school_id
                && input.organization_id == document.organization_id
                && input.person_id == document.person_id;
            if !same_member {
                return Err(crate::routes::common::immutable(
                    if document.school_id.is_some() {
                        "/school_id"
                    } else if document.organization_id.is_some() {
                        "/organization_id"
                    } else {
                        "/person_id"
                    },
                ));
            }
            let data = validate_member(&input, &network, Some(member_id), &ctx, tx.conn());
            let data = if merge { in_state(data)? } else { data? };
            match repo::update_member(tx, &network, &current, &data)? {
                UpdateOutcome::Done(row) => Ok((row, names)),
                UpdateOutcome::Concurrent => Err(ApiError::ConcurrentChange),
            }
        })
        .await?;
    let version = row.version;
    Ok(with_etag(
        HttpResponse::Ok(),
        version,
        &Member::from_row(row, &names)?,
    ))
}

/// Replace a membership.
///
/// Role and period; the member itself (school or organisation) cannot change. With
/// `If-Match`, answers 412 if it changed since.
#[utoipa::path(
    tag = "networks",
    operation_id = "replace_network_member",
    params(("id" = Uuid, Path, description = "The network's id."),
        ("member_id" = Uuid, Path, description = "The membership's id.")),
    request_body(content = MemberInput, description = "The membership, whole."),
    responses(
        (status = 200, description = "Replaced.", body = Member,
            headers(("ETag" = String, description = "The new version."))),
        (status = 400, response = responses::MalformedBody),
        (status = 401, response = responses::Unauthorized),
        (status = 403, response = responses::ForbiddenTerritory),
        (status = 404, response = responses::NotFound),
        (status = 409, response = responses::Conflict),
        (status = 412, response = responses::PreconditionFailed),
        (status = 413, response = responses::PayloadTooLarge),
        (status = 415, response = responses::UnsupportedMediaType),
        (status = 422, response = responses::UnprocessableEntity),
        (status = 503, response = responses::Unavailable),
    ),
    security(("bearer" = ["networks:write"]))
)]
#[put("/networks/{id}/members/{member_id}")]
pub async fn replace_network_member(
    auth: Authorized<NetworksWrite>,
    _query: NoParams,
    path: web::Path<(String, String)>,
    body: web::Json<Value>,
    preconditions: Preconditions,
    db: web::Data<Db>,
    catalogue: web::Data<Catalogue>,
) -> ApiResult<HttpResponse> {
    update_member(
        auth,
        path.into_inner(),
        body.into_inner(),
        false,
        preconditions,
        db,
        catalogue,
        "replace_network_member",
    )
    .await
}

/// Change a membership.
///
/// A JSON merge patch of role and period, typically `{"left_on": "2018-03-01"}` when a school
/// leaves. With `If-Match`, answers 412 if it changed since.
#[utoipa::path(
    tag = "networks",
    operation_id = "update_network_member",
    params(("id" = Uuid, Path, description = "The network's id."),
        ("member_id" = Uuid, Path, description = "The membership's id.")),
    request_body(content = MemberPatch, description = "The fields to change.",
        content_type = "application/merge-patch+json"),
    responses(
        (status = 200, description = "Changed.", body = Member,
            headers(("ETag" = String, description = "The new version."))),
        (status = 400, response = responses::MalformedBody),
        (status = 401, response = responses::Unauthorized),
        (status = 403, response = responses::ForbiddenTerritory),
        (status = 404, response = responses::NotFound),
        (status = 409, response = responses::Conflict),
        (status = 412, response = responses::PreconditionFailed),
        (status = 413, response = responses::PayloadTooLarge),
        (status = 415, response = responses::UnsupportedMediaType),
        (status = 422, response = responses::UnprocessableEntity),
        (status = 503, response = responses::Unavailable),
    ),
    security(("bearer" = ["networks:write"]))
)]
#[patch("/networks/{id}/members/{member_id}")]
pub async fn update_network_member(
    auth: Authorized<NetworksWrite>,
    _query: NoParams,
    path: web::Path<(String, String)>,
    body: web::Json<Value>,
    preconditions: Preconditions,
    db: web::Data<Db>,
    catalogue: web::Data<Catalogue>,
) -> ApiResult<HttpResponse> {
    update_member(
        auth,
        path.into_inner(),
        body.into_inner(),
        true,
        preconditions,
        db,
        catalogue,
        "update_network_member",
    )
    .await
}

/// Remove a membership.
///
/// Erases it from the history: to record that a member left, set its `left_on` instead.
#[utoipa::path(
    tag = "networks",
    operation_id = "delete_network_member",
    params(("id" = Uuid, Path, description = "The network's id."),
        ("member_id" = Uuid, Path, description = "The membership's id.")),
    responses(
        (status = 204, description = "Removed."),
        (status = 400, response = responses::BadRequest),
        (status = 401, response = responses::Unauthorized),
        (status = 403, response = responses::ForbiddenTerritory),
        (status = 404, response = responses::NotFound),
        (status = 412, response = responses::PreconditionFailed),
        (status = 503, response = responses::Unavailable),
    ),
    security(("bearer" = ["networks:write"]))
)]
#[delete("/networks/{id}/members/{member_id}")]
pub async fn delete_network_member(
    auth: Authorized<NetworksWrite>,
    _query: NoParams,
    path: web::Path<(String, String)>,
    preconditions: Preconditions,
    db: web::Data<Db>,
) -> ApiResult<HttpResponse> {
    let (network_id, member_id) = path.into_inner();
    let network_id = path_id(Resource::Network, &network_id)?;
    let member_id = path_id(Resource::Member, &member_id)?;
    let scope = TerritoryScope::of(&auth.principal);
    db.write(move |tx| {
        let network = writable(tx.conn(), network_id, &scope)?;
        let current = repo::find_member(tx.conn(), network_id, member_id)?
            .ok_or_else(|| ApiError::not_found(Resource::Member, member_id))?;
        preconditions.check_write(current.version)?;
        match repo::delete_member(tx, &network, &current)? {
            UpdateOutcome::Done(()) => Ok(()),
            UpdateOutcome::Concurrent => Err(ApiError::ConcurrentChange),
        }
    })
    .await?;
    Ok(HttpResponse::NoContent().finish())
}

/// One of a school's memberships, with its network.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(example = json!({
    "network_id": "0f8b5f4e-8a57-5d0e-9a55-9d3f0c7e2a11",
    "network_name": "Red de Escuelas Municipales de la comuna de Freire",
    "network_kind": "red_mejoramiento_escolar",
    "member_id": "019ab3c2-7d10-7a3e-8e44-2f7c1b9d0e55",
    "role": "member_school",
    "joined_on": "2016-01-01",
    "left_on": null
}))]
pub struct Membership {
    pub network_id: Uuid,
    pub network_name: String,
    pub network_kind: NetworkKind,
    pub member_id: Uuid,
    pub role: MemberRole,
    pub joined_on: Option<NaiveDate>,
    pub left_on: Option<NaiveDate>,
}

/// A school's memberships.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"items": []}))]
pub struct MembershipList {
    /// By network name.
    pub items: Vec<Membership>,
}

/// Filters of `GET /api/v1/schools/{id}/networks`.
#[derive(Debug, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SchoolNetworksParams {
    /// Only the memberships current on this date (`YYYY-MM-DD`).
    #[param(example = "2016-06-01")]
    pub on: Option<NaiveDate>,
}

/// List a school's networks.
///
/// Its memberships, past and present (or on a date with `on`), with their networks, by
/// network name. A school has few, so the list is not paged.
#[utoipa::path(
    tag = "networks",
    operation_id = "list_school_networks",
    params(("id" = Uuid, Path, description = "The school's id."), SchoolNetworksParams),
    responses(
        (status = 200, description = "The school's memberships.", body = MembershipList),
        (status = 400, response = responses::BadRequest),
        (status = 401, response = responses::Unauthorized),
        (status = 403, response = responses::Forbidden),
        (status = 404, response = responses::NotFound),
        (status = 503, response = responses::Unavailable),
    ),
    security(("bearer" = ["networks:read"]))
)]
#[get("/schools/{id}/networks")]
pub async fn list_school_networks(
    auth: Authorized<NetworksRead>,
    query: QueryParams,
    path: web::Path<String>,
    db: web::Data<Db>,
) -> ApiResult<Json<MembershipList>> {
    let mut reader = query.reader(&["on"]);
    let on = reader.date("on").map(|d| d.to_string());
    reader.finish()?;
    let school_id = path_id(Resource::School, &path)?;
    let scope = TerritoryScope::of(&auth.principal);
    let rows = db
        .read(move |conn| {
            schools::find(conn, school_id, &scope)?
                .ok_or_else(|| ApiError::not_found(Resource::School, school_id))?;
            Ok(repo::memberships_of(
                conn,
                repo::MemberRef::School(school_id),
                on.as_deref(),
            )?)
        })
        .await?;
    Ok(Json(MembershipList {
        items: memberships(rows)?,
    }))
}

/// Memberships with their networks, as listed for a school or a person.
pub fn memberships(rows: Vec<(MemberRow, NetworkRow)>) -> ApiResult<Vec<Membership>> {
    let names = HashMap::new();
    rows.into_iter()
        .map(|(member, network)| -> ApiResult<Membership> {
            let member = Member::from_row(member, &names)?;
            Ok(Membership {
                network_id: network.id.0,
                network_kind: network
                    .kind
                    .parse()
                    .map_err(|()| ApiError::internal(anyhow::anyhow!("bad network kind")))?,
                network_name: network.name,
                member_id: member.id,
                role: member.role,
                joined_on: member.joined_on,
                left_on: member.left_on,
            })
        })
        .collect()
}
