//! `/api/v1/mentoring-visits`: mentoring visits (*mentorías pedagógicas*) in which a mentor
//! accompanies a school's director or a teacher, with the agreements reached and their
//! follow-up. Scoped through the school. People appear by id only: their names are personal
//! data, read with `people:read` at `/api/v1/people/{id}`.

use std::collections::HashSet;

use actix_web::{HttpResponse, delete, get, patch, post, put, web};
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::auth::scopes::{PlansRead, PlansWrite};
use crate::auth::{Authorized, TerritoryScope};
use crate::body::{Validator, text};
use crate::db::{Db, DbConnection, DbUuid};
use crate::domain::network::AgreementStatus;
use crate::domain::plan::MenteeRole;
use crate::error::{ApiError, ApiResult, IssueKind, Resource};
use crate::etag::Preconditions;
use crate::json::Json;
use crate::openapi::responses;
use crate::pagination::into_page;
use crate::query::{NoParams, QueryParams, parse_date};
use crate::repository::mentoring_visits::{self as repo, VisitData, VisitFilter, VisitRow};
use crate::repository::{NameCursor, UpdateOutcome, networks, people, schools};
use crate::routes::common::{
    check_patch, checked, created, in_state, merged, not_modified, optional_text, path_id,
    with_etag,
};

/// An agreement (*compromiso*) reached at a mentoring visit.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema, PartialEq, Eq)]
#[schema(example = json!({
    "id": "019ab3c2-7d10-7a3e-8e44-2f7c1b9d0e21",
    "description": "Observar dos clases de 4° básico con la pauta acordada.",
    "due_on": "2024-05-10",
    "status": "open"
}))]
pub struct VisitAgreement {
    /// Stable across replacements of the visit that keep it (give it back in `PUT`).
    pub id: Uuid,
    pub description: String,
    pub due_on: Option<NaiveDate>,
    pub status: AgreementStatus,
}

/// An agreement in a visit body. With `id` (one of the visit's agreements), it keeps its id;
/// without, it is new.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[schema(example = json!({
    "description": "Observar dos clases de 4° básico con la pauta acordada.",
    "due_on": "2024-05-10"
}))]
pub struct VisitAgreementInput {
    #[serde(default)]
    pub id: Option<Uuid>,
    /// What was agreed (1-2,000 characters).
    #[schema(min_length = 1, max_length = 2000)]
    pub description: String,
    #[serde(default)]
    pub due_on: Option<NaiveDate>,
    /// `open` when absent.
    #[serde(default)]
    pub status: Option<AgreementStatus>,
}

/// A mentoring visit (*visita de mentoría pedagógica*) to a school.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(example = json!({
    "id": "019ab3c2-7d10-7a3e-8e44-2f7c1b9d0e20",
    "school_id": "56109f40-17b6-42a2-80a0-1ee14ff99828",
    "network_id": null,
    "mentor_person_id": "019ab3c2-7d10-7a3e-8e44-2f7c1b9d0e66",
    "mentee_person_id": "019ab3c2-7d10-7a3e-8e44-2f7c1b9d0e67",
    "mentee_role": "director",
    "visited_on": "2024-04-26",
    "focus": "Acompañamiento al aula en comprensión lectora",
    "observations": "El equipo directivo ya aplica la pauta de observación.",
    "agreements": [{"id": "019ab3c2-7d10-7a3e-8e44-2f7c1b9d0e21",
        "description": "Observar dos clases de 4° básico con la pauta acordada.",
        "due_on": "2024-05-10", "status": "open"}],
    "follow_up": "Revisar las observaciones en la próxima visita.",
    "follow_up_on": "2024-05-24",
    "created_at": "2026-11-23T19:23:00.123456Z",
    "updated_at": "2026-11-23T19:23:00.123456Z"
}))]
pub struct MentoringVisit {
    pub id: Uuid,
    /// The school visited.
    pub school_id: Uuid,
    /// The network the mentoring belongs to, if any.
    pub network_id: Option<Uuid>,
    /// The mentor (a person; the name is read with `people:read`).
    pub mentor_person_id: Uuid,
    /// The person accompanied.
    pub mentee_person_id: Uuid,
    pub mentee_role: MenteeRole,
    /// The day of the visit.
    pub visited_on: NaiveDate,
    /// What the visit worked on.
    pub focus: String,
    pub observations: Option<String>,
    /// The agreements reached, in order.
    pub agreements: Vec<VisitAgreement>,
    /// What is to be followed up.
    pub follow_up: Option<String>,
    /// When it is followed up (after the visit).
    pub follow_up_on: Option<NaiveDate>,
    #[serde(serialize_with = "crate::json::timestamp")]
    pub created_at: DateTime<Utc>,
    #[serde(serialize_with = "crate::json::timestamp")]
    pub updated_at: DateTime<Utc>,
}

/// The body of `POST /api/v1/mentoring-visits` and of `PUT /api/v1/mentoring-visits/{id}`.
#[derive(Debug, Deserialize, ToSchema)]
#[schema(example = json!({
    "school_id": "56109f40-17b6-42a2-80a0-1ee14ff99828",
    "mentor_person_id": "019ab3c2-7d10-7a3e-8e44-2f7c1b9d0e66",
    "mentee_person_id": "019ab3c2-7d10-7a3e-8e44-2f7c1b9d0e67",
    "mentee_role": "director",
    "visited_on": "2024-04-26",
    "focus": "Acompañamiento al aula en comprensión lectora",
    "observations": "El equipo directivo ya aplica la pauta de observación.",
    "agreements": [{"description": "Observar dos clases de 4° básico con la pauta acordada.",
        "due_on": "2024-05-10"}],
    "follow_up": "Revisar las observaciones en la próxima visita.",
    "follow_up_on": "2024-05-24"
}))]
pub struct MentoringVisitInput {
    /// A school the caller sees.
    pub school_id: Uuid,
    /// A network the caller sees.
    #[serde(default)]
    pub network_id: Option<Uuid>,
    /// A person in the caller's territories.
    pub mentor_person_id: Uuid,
    /// A person in the caller's territories, not the mentor.
    pub mentee_person_id: Uuid,
    pub mentee_role: MenteeRole,
    /// `YYYY-MM-DD`.
    pub visited_on: NaiveDate,
    /// 1-500 characters, not blank; trimmed.
    #[schema(min_length = 1, max_length = 500)]
    pub focus: String,
    /// Up to 10,000 characters.
    #[serde(default)]
    #[schema(max_length = 10000)]
    pub observations: Option<String>,
    /// Up to 50, each id at most once.
    #[serde(default)]
    #[schema(max_items = 50)]
    pub agreements: Option<Vec<VisitAgreementInput>>,
    /// Up to 5,000 characters.
    #[serde(default)]
    #[schema(max_length = 5000)]
    pub follow_up: Option<String>,
    /// After `visited_on`.
    #[serde(default)]
    pub follow_up_on: Option<NaiveDate>,
}

/// The body of `PATCH /api/v1/mentoring-visits/{id}`: a JSON merge patch (the agreements are
/// replaced whole). `null` removes an optional field.
#[derive(Debug, ToSchema)]
#[schema(example = json!({"follow_up_on": "2024-05-31"}))]
#[expect(
    dead_code,
    reason = "documents the PATCH body; the patch is merged as JSON"
)]
pub struct MentoringVisitPatch {
    school_id: Option<Uuid>,
    network_id: Option<Uuid>,
    mentor_person_id: Option<Uuid>,
    mentee_person_id: Option<Uuid>,
    mentee_role: Option<MenteeRole>,
    visited_on: Option<NaiveDate>,
    #[schema(min_length = 1, max_length = 500)]
    focus: Option<String>,
    #[schema(max_length = 10000)]
    observations: Option<String>,
    #[schema(max_items = 50)]
    agreements: Option<Vec<VisitAgreementInput>>,
    #[schema(max_length = 5000)]
    follow_up: Option<String>,
    follow_up_on: Option<NaiveDate>,
}

/// The rules of a visit no schema can state: the school, network and people are ones the
/// caller may refer to; mentor and mentee differ; the follow-up comes after the visit;
/// agreement ids are the visit's own, each once. `current` is the visit being replaced.
fn validate(
    input: MentoringVisitInput,
    current: Option<&MentoringVisit>,
    scope: &TerritoryScope,
    conn: &mut DbConnection,
) -> ApiResult<VisitData> {
    let mut v = Validator::new();
    let school = schools::find(conn, input.school_id, scope)?;
    if school.is_none() {
        v.issue("/school_id", IssueKind::UnknownReference);
    }
    if let Some(network) = input.network_id
        && networks::find(conn, network, scope)?.is_none()
    {
        v.issue("/network_id", IssueKind::UnknownReference);
    }
    let visible = people::names_visible(
        conn,
        vec![
            DbUuid(input.mentor_person_id),
            DbUuid(input.mentee_person_id),
        ],
        scope,
    )?;
    if !visible.contains_key(&input.mentor_person_id) {
        v.issue("/mentor_person_id", IssueKind::UnknownReference);
    }
    if !visible.contains_key(&input.mentee_person_id) {
        v.issue("/mentee_person_id", IssueKind::UnknownReference);
    }
    if input.mentor_person_id == input.mentee_person_id {
        v.issue("/mentee_person_id", IssueKind::Duplicate);
    }
    if input.follow_up_on.is_some_and(|on| on <= input.visited_on) {
        v.issue(
            "/follow_up_on",
            IssueKind::NotAfter {
                field: "visited_on",
            },
        );
    }
    let own: HashSet<Uuid> = current
        .map(|c| c.agreements.iter().map(|a| a.id).collect())
        .unwrap_or_default();
    let mut seen = HashSet::new();
    let mut agreements = Vec::new();
    for (index, agreement) in input.agreements.unwrap_or_default().into_iter().enumerate() {
        let id = match agreement.id {
            Some(id) if !own.contains(&id) => {
                v.issue(
                    format!("/agreements/{index}/id"),
                    IssueKind::UnknownReference,
                );
                id
            }
            Some(id) => id,
            None => Uuid::now_v7(),
        };
        if !seen.insert(id) {
            v.issue(format!("/agreements/{index}/id"), IssueKind::Duplicate);
        }
        agreements.push(VisitAgreement {
            id,
            description: text(&agreement.description),
            due_on: agreement.due_on,
            status: agreement.status.unwrap_or(AgreementStatus::Open),
        });
    }
    v.finish()?;
    let school = school
        .ok_or_else(|| ApiError::internal(anyhow::anyhow!("a validated visit has no school")))?;
    Ok(VisitData {
        school_id: school.id,
        territory_path: school.territory_path,
        network_id: input.network_id.map(DbUuid),
        mentor_person_id: DbUuid(input.mentor_person_id),
        mentee_person_id: DbUuid(input.mentee_person_id),
        mentee_role: input.mentee_role.as_str().to_owned(),
        visited_on: input.visited_on.to_string(),
        focus: text(&input.focus),
        observations: optional_text(input.observations.as_deref()),
        agreements: serde_json::to_string(&agreements).map_err(ApiError::internal)?,
        follow_up: optional_text(input.follow_up.as_deref()),
        follow_up_on: input.follow_up_on.map(|d| d.to_string()),
    })
}

impl MentoringVisit {
    fn from_row(row: VisitRow) -> ApiResult<MentoringVisit> {
        let id = row.id.0;
        let corrupt = |what: &str| {
            ApiError::internal(anyhow::anyhow!("mentoring visit {id} has a bad {what}"))
        };
        Ok(MentoringVisit {
            id,
            school_id: row.school_id.0,
            network_id: row.network_id.map(|n| n.0),
            mentor_person_id: row.mentor_person_id.0,
            mentee_person_id: row.mentee_person_id.0,
            mentee_role: row
                .mentee_role
                .parse()
                .map_err(|()| corrupt("mentee_role"))?,
            visited_on: parse_date(&row.visited_on).ok_or_else(|| corrupt("visited_on"))?,
            agreements: serde_json::from_str(&row.agreements).map_err(|_| corrupt("agreements"))?,
            follow_up_on: row
                .follow_up_on
                .as_deref()
                .map(|d| parse_date(d).ok_or_else(|| corrupt("follow_up_on")))
                .transpose()?,
            focus: row.focus,
            observations: row.observations,
            follow_up: row.follow_up,
            created_at: row.created_at.get(),
            updated_at: row.updated_at.get(),
        })
    }

    /// The writable fields, as a body: what a PATCH is merged into.
    fn as_input(&self) -> Value {
        json!({
            "school_id": self.school_id,
            "network_id": self.network_id,
            "mentor_person_id": self.mentor_person_id,
            "mentee_person_id": self.mentee_person_id,
            "mentee_role": self.mentee_role,
            "visited_on": self.visited_on,
            "focus": self.focus,
            "observations": self.observations,
            "agreements": self.agreements,
            "follow_up": self.follow_up,
            "follow_up_on": self.follow_up_on,
        })
    }
}

/// A page of mentoring visits.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"items": [], "next_cursor": null}))]
pub struct MentoringVisitPage {
    pub items: Vec<MentoringVisit>,
    /// Pass as `cursor` for the next page; `null` on the last page.
    pub next_cursor: Option<String>,
}

/// Filters of `GET /api/v1/mentoring-visits`.
#[derive(Debug, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct MentoringVisitListParams {
    /// Only visits to this school.
    pub school_id: Option<Uuid>,
    /// Only visits by this mentor.
    pub mentor_person_id: Option<Uuid>,
    /// Only visits accompanying this person.
    pub mentee_person_id: Option<Uuid>,
    /// Only visits on or after this day (`YYYY-MM-DD`).
    #[param(example = "2024-01-01")]
    pub from: Option<NaiveDate>,
    /// Only visits on or before this day (`YYYY-MM-DD`).
    #[param(example = "2024-12-31")]
    pub to: Option<NaiveDate>,
    /// Page size, 1-500.
    #[param(minimum = 1, maximum = 500, default = 50)]
    pub limit: Option<i64>,
    /// The `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

const LIST_PARAMS: &[&str] = &[
    "school_id",
    "mentor_person_id",
    "mentee_person_id",
    "from",
    "to",
    "limit",
    "cursor",
];

/// List mentoring visits.
///
/// The visits to the schools the caller sees, by day. Filter by school, mentor, mentee and
/// date range.
#[utoipa::path(
    tag = "plans",
    operation_id = "list_mentoring_visits",
    params(MentoringVisitListParams),
    responses(
        (status = 200, description = "A page of mentoring visits.", body = MentoringVisitPage),
        (status = 400, response = responses::BadRequest),
        (status = 401, response = responses::Unauthorized),
        (status = 403, response = responses::Forbidden),
        (status = 503, response = responses::Unavailable),
    ),
    security(("bearer" = ["plans:read"]))
)]
#[get("/mentoring-visits")]
pub async fn list_mentoring_visits(
    auth: Authorized<PlansRead>,
    query: QueryParams,
    db: web::Data<Db>,
) -> ApiResult<Json<MentoringVisitPage>> {
    let mut reader = query.reader(LIST_PARAMS);
    let filter = VisitFilter {
        school_id: reader.uuid("school_id"),
        mentor_person_id: reader.uuid("mentor_person_id"),
        mentee_person_id: reader.uuid("mentee_person_id"),
        from: reader.date("from").map(|d| d.to_string()),
        to: reader.date("to").map(|d| d.to_string()),
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
        NameCursor::encode(&row.visited_on, row.id.0)
    });
    Ok(Json(MentoringVisitPage {
        items: rows
            .into_iter()
            .map(MentoringVisit::from_row)
            .collect::<ApiResult<_>>()?,
        next_cursor: next,
    }))
}

/// Record a mentoring visit.
///
/// To a school the caller sees, by a mentor to a director or a teacher (both people in the
/// caller's territories), with its agreements and follow-up. Answers 201 with the visit, its
/// `Location` and `ETag`.
#[utoipa::path(
    tag = "plans",
    operation_id = "create_mentoring_visit",
    request_body(content = MentoringVisitInput, description = "The mentoring visit."),
    responses(
        (status = 201, description = "Created.", body = MentoringVisit,
            headers(("ETag" = String, description = "The version, for If-Match."),
                    ("Location" = String, description = "The mentoring visit's URL."))),
        (status = 400, response = responses::MalformedBody),
        (status = 401, response = responses::Unauthorized),
        (status = 403, response = responses::ForbiddenTerritory),
        (status = 409, response = responses::Conflict),
        (status = 413, response = responses::PayloadTooLarge),
        (status = 415, response = responses::UnsupportedMediaType),
        (status = 422, response = responses::UnprocessableEntity),
        (status = 503, response = responses::Unavailable),
    ),
    security(("bearer" = ["plans:write"]))
)]
#[post("/mentoring-visits")]
pub async fn create_mentoring_visit(
    auth: Authorized<PlansWrite>,
    _query: NoParams,
    body: web::Json<Value>,
    db: web::Data<Db>,
) -> ApiResult<HttpResponse> {
    let input = checked::<MentoringVisitInput>("create_mentoring_visit", &body)?;
    let scope = TerritoryScope::of(&auth.principal);
    let row = db
        .write(move |tx| {
            let data = validate(input, None, &scope, tx.conn())?;
            Ok(repo::insert(tx, Uuid::now_v7(), &data)?)
        })
        .await?;
    let version = row.version;
    let visit = MentoringVisit::from_row(row)?;
    Ok(created(
        format!("/api/v1/mentoring-visits/{}", visit.id),
        version,
        &visit,
    ))
}

/// Get a mentoring visit.
///
/// With its `ETag`; `If-None-Match` with the current ETag answers 304.
#[utoipa::path(
    tag = "plans",
    operation_id = "get_mentoring_visit",
    params(("id" = Uuid, Path, description = "The mentoring visit's id.")),
    responses(
        (status = 200, description = "The mentoring visit.", body = MentoringVisit,
            headers(("ETag" = String, description = "The version, for If-Match and If-None-Match."))),
        (status = 304, description = "Not modified: the `If-None-Match` ETag is current."),
        (status = 400, response = responses::BadRequest),
        (status = 401, response = responses::Unauthorized),
        (status = 403, response = responses::Forbidden),
        (status = 404, response = responses::NotFound),
        (status = 503, response = responses::Unavailable),
    ),
    security(("bearer" = ["plans:read"]))
)]
#[get("/mentoring-visits/{id}")]
pub async fn get_mentoring_visit(
    auth: Authorized<PlansRead>,
    _query: NoParams,
    path: web::Path<String>,
    preconditions: Preconditions,
    db: web::Data<Db>,
) -> ApiResult<HttpResponse> {
    let id = path_id(Resource::MentoringVisit, &path)?;
    let scope = TerritoryScope::of(&auth.principal);
    let row = db
        .read_short(move |conn| Ok(repo::find(conn, id, &scope)?))
        .await?
        .ok_or_else(|| ApiError::not_found(Resource::MentoringVisit, id))?;
    if preconditions.not_modified(row.version) {
        return Ok(not_modified(row.version));
    }
    let version = row.version;
    Ok(with_etag(
        HttpResponse::Ok(),
        version,
        &MentoringVisit::from_row(row)?,
    ))
}

/// Replaces (PUT) or merges (PATCH) a visit.
async fn update(
    auth: Authorized<PlansWrite>,
    raw_id: &str,
    body: Value,
    merge: bool,
    preconditions: Preconditions,
    db: web::Data<Db>,
) -> ApiResult<HttpResponse> {
    let id = path_id(Resource::MentoringVisit, raw_id)?;
    let replacement = if merge {
        check_patch("update_mentoring_visit", &body)?;
        None
    } else {
        Some(checked::<MentoringVisitInput>(
            "replace_mentoring_visit",
            &body,
        )?)
    };
    let scope = TerritoryScope::of(&auth.principal);
    let row = db
        .write(move |tx| {
            let current = repo::find(tx.conn(), id, &scope)?
                .ok_or_else(|| ApiError::not_found(Resource::MentoringVisit, id))?;
            preconditions.check_write(current.version)?;
            let document = MentoringVisit::from_row(current.clone())?;
            let data = match replacement {
                Some(input) => validate(input, Some(&document), &scope, tx.conn())?,
                None => {
                    let input: MentoringVisitInput =
                        merged("replace_mentoring_visit", document.as_input(), &body)?;
                    in_state(validate(input, Some(&document), &scope, tx.conn()))?
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
        &MentoringVisit::from_row(row)?,
    ))
}

/// Replace a mentoring visit.
///
/// The whole visit, as in `POST`; agreements that keep their `id` stay the same agreements.
/// With `If-Match`, answers 412 if it changed since.
#[utoipa::path(
    tag = "plans",
    operation_id = "replace_mentoring_visit",
    params(("id" = Uuid, Path, description = "The mentoring visit's id.")),
    request_body(content = MentoringVisitInput, description = "The mentoring visit, whole."),
    responses(
        (status = 200, description = "Replaced.", body = MentoringVisit,
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
    security(("bearer" = ["plans:write"]))
)]
#[put("/mentoring-visits/{id}")]
pub async fn replace_mentoring_visit(
    auth: Authorized<PlansWrite>,
    _query: NoParams,
    path: web::Path<String>,
    body: web::Json<Value>,
    preconditions: Preconditions,
    db: web::Data<Db>,
) -> ApiResult<HttpResponse> {
    update(auth, &path, body.into_inner(), false, preconditions, db).await
}

/// Change a mentoring visit.
///
/// A JSON merge patch (RFC 7396): the fields given replace (the agreements whole), `null`
/// removes an optional field. With `If-Match`, answers 412 if it changed since.
#[utoipa::path(
    tag = "plans",
    operation_id = "update_mentoring_visit",
    params(("id" = Uuid, Path, description = "The mentoring visit's id.")),
    request_body(content = MentoringVisitPatch, description = "The fields to change.",
        content_type = "application/merge-patch+json"),
    responses(
        (status = 200, description = "Changed.", body = MentoringVisit,
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
    security(("bearer" = ["plans:write"]))
)]
#[patch("/mentoring-visits/{id}")]
pub async fn update_mentoring_visit(
    auth: Authorized<PlansWrite>,
    _query: NoParams,
    path: web::Path<String>,
    body: web::Json<Value>,
    preconditions: Preconditions,
    db: web::Data<Db>,
) -> ApiResult<HttpResponse> {
    update(auth, &path, body.into_inner(), true, preconditions, db).await
}

/// Delete a mentoring visit.
///
/// With its agreements. With `If-Match`, answers 412 if it changed since.
#[utoipa::path(
    tag = "plans",
    operation_id = "delete_mentoring_visit",
    params(("id" = Uuid, Path, description = "The mentoring visit's id.")),
    responses(
        (status = 204, description = "Deleted."),
        (status = 400, response = responses::BadRequest),
        (status = 401, response = responses::Unauthorized),
        (status = 403, response = responses::Forbidden),
        (status = 404, response = responses::NotFound),
        (status = 409, response = responses::Conflict),
        (status = 412, response = responses::PreconditionFailed),
        (status = 503, response = responses::Unavailable),
    ),
    security(("bearer" = ["plans:write"]))
)]
#[delete("/mentoring-visits/{id}")]
pub async fn delete_mentoring_visit(
    auth: Authorized<PlansWrite>,
    _query: NoParams,
    path: web::Path<String>,
    preconditions: Preconditions,
    db: web::Data<Db>,
) -> ApiResult<HttpResponse> {
    let id = path_id(Resource::MentoringVisit, &path)?;
    let scope = TerritoryScope::of(&auth.principal);
    db.write(move |tx| {
        let current = repo::find(tx.conn(), id, &scope)?
            .ok_or_else(|| ApiError::not_found(Resource::MentoringVisit, id))?;
        preconditions.check_write(current.version)?;
        match repo::delete(tx, &current)? {
            UpdateOutcome::Done(()) => Ok(()),
            UpdateOutcome::Concurrent => Err(ApiError::ConcurrentChange),
        }
    })
    .await?;
    Ok(HttpResponse::NoContent().finish())
}
