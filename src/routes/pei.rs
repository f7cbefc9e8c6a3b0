//! `/api/v1/schools/{id}/pei`: a school's *Proyecto Educativo Institucional*, with its history
//! of revisions. Scoped through the school.

use std::collections::{BTreeMap, HashSet};

use actix_web::{HttpResponse, get, patch, put, web};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::auth::scopes::{PlansRead, PlansWrite};
use crate::auth::{Authorized, TerritoryScope};
use crate::body::{Validator, text};
use crate::db::Db;
use crate::error::{ApiError, ApiResult, IssueKind, Resource};
use crate::etag::Preconditions;
use crate::json::Json;
use crate::openapi::responses;
use crate::pagination::into_page;
use crate::query::{NoParams, QueryParams};
use crate::repository::pei::{self as repo, PeiData, PeiRecord};
use crate::repository::{NameCursor, schools};
use crate::routes::common::{
    check_patch, checked, in_state, merged, not_modified, optional_text, path_id, text_list,
    with_etag,
};

/// A *sello educativo*: one of the marks that make the school's project its own. Its id stays
/// the same across revisions, so plans can be linked to it.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(example = json!({
    "id": "019ab3c2-7d10-7a3e-8e44-2f7c1b9d0e99",
    "name": "Formación técnico profesional de excelencia",
    "description": "Estudiantes preparados para el mundo del trabajo de su territorio."
}))]
pub struct Sello {
    pub id: Uuid,
    pub name: String,
    pub description: Option<String>,
}

/// A sello in a PEI body: with `id` (one of the current PEI's sellos) it stays that sello;
/// without, it is new.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[schema(example = json!({"name": "Formación técnico profesional de excelencia"}))]
pub struct SelloInput {
    #[serde(default)]
    pub id: Option<Uuid>,
    /// 1-200 characters, not blank; trimmed.
    #[schema(min_length = 1, max_length = 200)]
    pub name: String,
    /// Up to 2,000 characters.
    #[serde(default)]
    #[schema(max_length = 2000)]
    pub description: Option<String>,
}

/// A school's PEI, one revision of it.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(example = json!({
    "school_id": "56109f40-17b6-42a2-80a0-1ee14ff99828",
    "revision": 2,
    "period_from": 2019,
    "period_to": 2023,
    "vision": "Ser un liceo técnico profesional reconocido en la provincia del Huasco.",
    "mission": "Formar técnicos de nivel medio con competencias para el trabajo y la vida.",
    "sellos": [{"id": "019ab3c2-7d10-7a3e-8e44-2f7c1b9d0e99",
        "name": "Formación técnico profesional de excelencia", "description": null}],
    "principles": ["Inclusión"],
    "values": ["Respeto", "Responsabilidad"],
    "profiles": {"estudiante": "Autónomo, responsable y comprometido con su comunidad."},
    "created_at": "2026-11-23T19:23:00.123456Z"
}))]
pub struct Pei {
    pub school_id: Uuid,
    /// 1 for the first; each change writes the next (the ETag).
    pub revision: i64,
    /// The first school year it covers.
    pub period_from: i32,
    /// The last school year it covers.
    pub period_to: i32,
    pub vision: Option<String>,
    pub mission: Option<String>,
    /// The *sellos educativos*, in order.
    pub sellos: Vec<Sello>,
    /// Its principles.
    pub principles: Vec<String>,
    /// Its values.
    pub values: Vec<String>,
    /// The profile it describes for each actor (`estudiante`, `docente`, `directivo`,
    /// `asistente_educacion`, `apoderado`, `profesional_apoyo`).
    pub profiles: BTreeMap<String, String>,
    /// When this revision was written.
    #[serde(serialize_with = "crate::json::timestamp")]
    pub created_at: DateTime<Utc>,
}

/// The body of `PUT /api/v1/schools/{id}/pei`.
#[derive(Debug, Deserialize, ToSchema)]
#[schema(example = json!({
    "period_from": 2019,
    "period_to": 2023,
    "vision": "Ser un liceo técnico profesional reconocido en la provincia del Huasco.",
    "mission": "Formar técnicos de nivel medio con competencias para el trabajo y la vida.",
    "sellos": [{"name": "Formación técnico profesional de excelencia"}],
    "values": ["Respeto", "Responsabilidad"],
    "profiles": {"estudiante": "Autónomo, responsable y comprometido con su comunidad."}
}))]
pub struct PeiInput {
    /// 1900-2100.
    #[serde(deserialize_with = "crate::routes::common::whole_number")]
    #[schema(minimum = 1900, maximum = 2100, example = 2019)]
    pub period_from: i32,
    /// 1900-2100, not before `period_from`.
    #[serde(deserialize_with = "crate::routes::common::whole_number")]
    #[schema(minimum = 1900, maximum = 2100, example = 2023)]
    pub period_to: i32,
    /// Up to 5,000 characters.
    #[serde(default)]
    #[schema(max_length = 5000)]
    pub vision: Option<String>,
    /// Up to 5,000 characters.
    #[serde(default)]
    #[schema(max_length = 5000)]
    pub mission: Option<String>,
    /// Up to 20, each id at most once.
    #[serde(default)]
    #[schema(max_items = 20)]
    pub sellos: Option<Vec<SelloInput>>,
    /// Up to 50 items of up to 2,000 characters.
    #[serde(default)]
    #[schema(max_items = 50)]
    pub principles: Option<Vec<String>>,
    /// Up to 50 items of up to 2,000 characters.
    #[serde(default)]
    #[schema(max_items = 50)]
    pub values: Option<Vec<String>>,
    /// Actor → profile (up to 5,000 characters each).
    #[serde(default)]
    pub profiles: Option<BTreeMap<String, String>>,
}

/// The body of `PATCH /api/v1/schools/{id}/pei`: a JSON merge patch of the current PEI (lists
/// replaced whole); it writes a new revision.
#[derive(Debug, ToSchema)]
#[schema(example = json!({"values": ["Respeto", "Responsabilidad", "Solidaridad"]}))]
#[expect(
    dead_code,
    reason = "documents the PATCH body; the patch is merged as JSON"
)]
pub struct PeiPatch {
    #[schema(minimum = 1900, maximum = 2100)]
    period_from: Option<i32>,
    #[schema(minimum = 1900, maximum = 2100)]
    period_to: Option<i32>,
    #[schema(max_length = 5000)]
    vision: Option<String>,
    #[schema(max_length = 5000)]
    mission: Option<String>,
    #[schema(max_items = 20)]
    sellos: Option<Vec<SelloInput>>,
    #[schema(max_items = 50)]
    principles: Option<Vec<String>>,
    #[schema(max_items = 50)]
    values: Option<Vec<String>>,
    profiles: Option<BTreeMap<String, String>>,
}

/// The rules of a PEI no schema can state: the period does not end before it starts; sello
/// ids are the current PEI's, each once.
pub fn validate(input: PeiInput, current: Option<&PeiRecord>) -> ApiResult<PeiData> {
    let mut v = Validator::new();
    if input.period_to < input.period_from {
        v.issue(
            "/period_to",
            IssueKind::NotAfter {
                field: "period_from",
            },
        );
    }
    let own: HashSet<Uuid> = current
        .map(|c| c.sellos.iter().map(|s| s.id.0).collect())
        .unwrap_or_default();
    let mut seen = HashSet::new();
    let mut sellos = Vec::new();
    for (index, sello) in input.sellos.unwrap_or_default().into_iter().enumerate() {
        let id = match sello.id {
            Some(id) if !own.contains(&id) => {
                v.issue(format!("/sellos/{index}/id"), IssueKind::UnknownReference);
                id
            }
            Some(id) => id,
            None => Uuid::now_v7(),
        };
        if !seen.insert(id) {
            v.issue(format!("/sellos/{index}/id"), IssueKind::Duplicate);
        }
        sellos.push((
            id,
            text(&sello.name),
            optional_text(sello.description.as_deref()),
        ));
    }
    v.finish()?;
    let profiles: BTreeMap<String, String> = input
        .profiles
        .unwrap_or_default()
        .into_iter()
        .map(|(actor, profile)| (actor, text(&profile)))
        .filter(|(_, profile)| !profile.is_empty())
        .collect();
    Ok(PeiData {
        period_from: input.period_from,
        period_to: input.period_to,
        vision: optional_text(input.vision.as_deref()),
        mission: optional_text(input.mission.as_deref()),
        principles: text_list(input.principles)?,
        school_values: text_list(input.values)?,
        profiles: serde_json::to_string(&profiles).map_err(ApiError::internal)?,
        sellos,
    })
}

impl Pei {
    fn from_record(record: PeiRecord) -> ApiResult<Pei> {
        let PeiRecord { revision, sellos } = record;
        let school = revision.school_id.0;
        let corrupt =
            |what: &str| ApiError::internal(anyhow::anyhow!("PEI of {school} has bad {what}"));
        Ok(Pei {
            school_id: school,
            revision: revision.revision,
            period_from: revision.period_from,
            period_to: revision.period_to,
            sellos: sellos
                .into_iter()
                .map(|s| Sello {
                    id: s.id.0,
                    name: s.name,
                    description: s.description,
                })
                .collect(),
            principles: serde_json::from_str(&revision.principles)
                .map_err(|_| corrupt("principles"))?,
            values: serde_json::from_str(&revision.school_values).map_err(|_| corrupt("values"))?,
            profiles: serde_json::from_str(&revision.profiles).map_err(|_| corrupt("profiles"))?,
            vision: revision.vision,
            mission: revision.mission,
            created_at: revision.created_at.get(),
        })
    }

    fn as_input(&self) -> Value {
        json!({
            "period_from": self.period_from,
            "period_to": self.period_to,
            "vision": self.vision,
            "mission": self.mission,
            "sellos": self.sellos,
            "principles": self.principles,
            "values": self.values,
            "profiles": self.profiles,
        })
    }
}

/// Get a school's PEI.
///
/// Its current revision, with the revision number as `ETag`; 404 when the school has none.
#[utoipa::path(
    tag = "plans",
    operation_id = "get_school_pei",
    params(("id" = Uuid, Path, description = "The school's id.")),
    responses(
        (status = 200, description = "The current PEI.", body = Pei,
            headers(("ETag" = String, description = "The revision, for If-Match and If-None-Match."))),
        (status = 304, description = "Not modified: the `If-None-Match` ETag is current."),
        (status = 400, response = responses::BadRequest),
        (status = 401, response = responses::Unauthorized),
        (status = 403, response = responses::Forbidden),
        (status = 404, response = responses::NotFound),
        (status = 503, response = responses::Unavailable),
    ),
    security(("bearer" = ["plans:read"]))
)]
#[get("/schools/{id}/pei")]
pub async fn get_school_pei(
    auth: Authorized<PlansRead>,
    _query: NoParams,
    path: web::Path<String>,
    preconditions: Preconditions,
    db: web::Data<Db>,
) -> ApiResult<HttpResponse> {
    let school = path_id(Resource::School, &path)?;
    let scope = TerritoryScope::of(&auth.principal);
    let record = db
        .read(move |conn| {
            schools::find(conn, school, &scope)?
                .ok_or_else(|| ApiError::not_found(Resource::School, school))?;
            Ok(repo::current(conn, school)?)
        })
        .await?
        .ok_or_else(|| ApiError::not_found(Resource::Pei, school))?;
    let revision = record.revision.revision;
    if preconditions.not_modified(revision) {
        return Ok(not_modified(revision));
    }
    Ok(with_etag(
        HttpResponse::Ok(),
        revision,
        &Pei::from_record(record)?,
    ))
}

/// Writes a new revision: the body whole (PUT) or merged into the current one (PATCH).
async fn write(
    auth: Authorized<PlansWrite>,
    raw_id: &str,
    body: Value,
    merge: bool,
    preconditions: Preconditions,
    db: web::Data<Db>,
) -> ApiResult<HttpResponse> {
    let school = path_id(Resource::School, raw_id)?;
    let replacement = if merge {
        check_patch("update_school_pei", &body)?;
        None
    } else {
        Some(checked::<PeiInput>("replace_school_pei", &body)?)
    };
    let scope = TerritoryScope::of(&auth.principal);
    let (record, first) = db
        .write(move |tx| {
            let row = schools::find(tx.conn(), school, &scope)?
                .ok_or_else(|| ApiError::not_found(Resource::School, school))?;
            let current = repo::current(tx.conn(), school)?;
            preconditions.check_write(current.as_ref().map_or(0, |c| c.revision.revision))?;
            let data = match (replacement, &current) {
                (Some(input), _) => validate(input, current.as_ref())?,
                (None, Some(record)) => {
                    let document = Pei::from_record(record.clone())?;
                    let input: PeiInput = merged("replace_school_pei", document.as_input(), &body)?;
                    in_state(validate(input, current.as_ref()))?
                }
                (None, None) => return Err(ApiError::not_found(Resource::Pei, school)),
            };
            let record = repo::insert_revision(
                tx,
                school,
                &row.territory_path,
                current.as_ref().map(|c| &c.revision),
                &data,
            )?;
            Ok((record, current.is_none()))
        })
        .await?;
    let revision = record.revision.revision;
    let pei = Pei::from_record(record)?;
    if first {
        Ok(crate::routes::common::created(
            format!("/api/v1/schools/{school}/pei"),
            revision,
            &pei,
        ))
    } else {
        Ok(with_etag(HttpResponse::Ok(), revision, &pei))
    }
}

/// Write a school's PEI.
///
/// The whole PEI: the first answers 201, later ones write the next revision and answer 200
/// (earlier revisions stay in the history). Sellos given back with their `id` stay the same
/// sellos. With `If-Match`, answers 412 if another revision was written since.
#[utoipa::path(
    tag = "plans",
    operation_id = "replace_school_pei",
    params(("id" = Uuid, Path, description = "The school's id.")),
    request_body(content = PeiInput, description = "The PEI, whole."),
    responses(
        (status = 200, description = "A new revision.", body = Pei,
            headers(("ETag" = String, description = "The new revision."))),
        (status = 201, description = "The school's first PEI.", body = Pei,
            headers(("ETag" = String, description = "The revision."),
                    ("Location" = String, description = "The PEI's URL."))),
        (status = 400, response = responses::MalformedBody),
        (status = 401, response = responses::Unauthorized),
        (status = 403, response = responses::Forbidden),
        (status = 404, response = responses::NotFound),
        (status = 409, response = responses::Conflict),
        (status = 412, response = responses::PreconditionFailed),
        (status = 413, response = responses::PayloadTooLarge),
        (status = 415, response = responses::UnsupportedMediaType),
        (status = 422, response = responses::UnprocessableEntity),
        (status = 503, response = responses::Unavailable),
    ),
    security(("bearer" = ["plans:write"]))
)]
#[put("/schools/{id}/pei")]
pub async fn replace_school_pei(
    auth: Authorized<PlansWrite>,
    _query: NoParams,
    path: web::Path<String>,
    body: web::Json<Value>,
    preconditions: Preconditions,
    db: web::Data<Db>,
) -> ApiResult<HttpResponse> {
    write(auth, &path, body.into_inner(), false, preconditions, db).await
}

/// Change a school's PEI.
///
/// A JSON merge patch of the current PEI (lists replaced whole), written as the next
/// revision. 404 when the school has no PEI yet. With `If-Match`, answers 412 if another
/// revision was written since.
#[utoipa::path(
    tag = "plans",
    operation_id = "update_school_pei",
    params(("id" = Uuid, Path, description = "The school's id.")),
    request_body(content = PeiPatch, description = "The fields to change.",
        content_type = "application/merge-patch+json"),
    responses(
        (status = 200, description = "A new revision.", body = Pei,
            headers(("ETag" = String, description = "The new revision."))),
        (status = 400, response = responses::MalformedBody),
        (status = 401, response = responses::Unauthorized),
        (status = 403, response = responses::Forbidden),
        (status = 404, response = responses::NotFound),
        (status = 409, response = responses::Conflict),
        (status = 412, response = responses::PreconditionFailed),
        (status = 413, response = responses::PayloadTooLarge),
        (status = 415, response = responses::UnsupportedMediaType),
        (status = 422, response = responses::UnprocessableEntity),
        (status = 503, response = responses::Unavailable),
    ),
    security(("bearer" = ["plans:write"]))
)]
#[patch("/schools/{id}/pei")]
pub async fn update_school_pei(
    auth: Authorized<PlansWrite>,
    _query: NoParams,
    path: web::Path<String>,
    body: web::Json<Value>,
    preconditions: Preconditions,
    db: web::Data<Db>,
) -> ApiResult<HttpResponse> {
    write(auth, &path, body.into_inner(), true, preconditions, db).await
}

/// A page of PEI revisions.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"items": [], "next_cursor": null}))]
pub struct PeiHistory {
    /// Newest first.
    pub items: Vec<Pei>,
    /// Pass as `cursor` for the next page; `null` on the last page.
    pub next_cursor: Option<String>,
}

/// Paging of `GET /api/v1/schools/{id}/pei/history`.
#[derive(Debug, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PeiHistoryParams {
    /// Page size, 1-500.
    #[param(minimum = 1, maximum = 500, default = 50)]
    pub limit: Option<i64>,
    /// The `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

/// List a school's PEI revisions.
///
/// Every revision of its PEI, newest first: the history.
#[utoipa::path(
    tag = "plans",
    operation_id = "list_school_pei_history",
    params(("id" = Uuid, Path, description = "The school's id."), PeiHistoryParams),
    responses(
        (status = 200, description = "A page of revisions.", body = PeiHistory),
        (status = 400, response = responses::BadRequest),
        (status = 401, response = responses::Unauthorized),
        (status = 403, response = responses::Forbidden),
        (status = 404, response = responses::NotFound),
        (status = 503, response = responses::Unavailable),
    ),
    security(("bearer" = ["plans:read"]))
)]
#[get("/schools/{id}/pei/history")]
pub async fn list_school_pei_history(
    auth: Authorized<PlansRead>,
    query: QueryParams,
    path: web::Path<String>,
    db: web::Data<Db>,
) -> ApiResult<Json<PeiHistory>> {
    let mut reader = query.reader(&["limit", "cursor"]);
    let page = reader.page();
    // Cursors have the shared form; their name part is the last revision listed. As on the
    // other lists, a cursor of another list is not an error: it reads as "from the start".
    let before = match page.after.as_deref().map(NameCursor::decode) {
        None => None,
        Some(Some(cursor)) => cursor.name.parse::<i64>().ok(),
        Some(None) => {
            reader.issue("cursor", IssueKind::InvalidCursor);
            None
        }
    };
    reader.finish()?;
    let school = path_id(Resource::School, &path)?;
    let scope = TerritoryScope::of(&auth.principal);
    let fetch = page.fetch_limit();
    let records = db
        .read(move |conn| {
            schools::find(conn, school, &scope)?
                .ok_or_else(|| ApiError::not_found(Resource::School, school))?;
            Ok(repo::history(conn, school, before, fetch)?)
        })
        .await?;
    let (records, next) = into_page(records, &page, |r| {
        NameCursor::encode(&r.revision.revision.to_string(), r.revision.id.0)
    });
    Ok(Json(PeiHistory {
        items: records
            .into_iter()
            .map(Pei::from_record)
            .collect::<ApiResult<_>>()?,
        next_cursor: next,
    }))
}
