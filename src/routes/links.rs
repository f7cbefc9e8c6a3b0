//! `/api/v1/plans/{id}/links`: typed, dated links from a plan's items to what they articulate
//! with: the school's PEI sellos, the planes normativos, indicators, the objectives of the
//! school's networks, session agreements, short-cycle improvement plans, and (from a PAM) the
//! PMIs of the Secretaría's schools.

use actix_web::{HttpResponse, delete, get, patch, post, web};
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::auth::scopes::{PlansRead, PlansWrite};
use crate::auth::{Authorized, TerritoryScope};
use crate::body::{Validator, text};
use crate::db::{Db, DbConnection, DbTime, DbUuid};
use crate::domain::plan::{CatalogueKind, ItemLevel, LinkType, PlanKind};
use crate::error::{ApiError, ApiResult, IssueKind, Resource};
use crate::etag::Preconditions;
use crate::json::Json;
use crate::openapi::responses;
use crate::pagination::into_page;
use crate::query::{NoParams, QueryParams};
use crate::repository::plans::{self as repo, LinkFilter, LinkRow, PlanRow};
use crate::repository::{
    NameCursor, UpdateOutcome, catalogues, networks, pei, schools as schools_repo,
};
use crate::routes::common::{
    check_patch, checked, created, not_modified, optional_text, path_id, with_etag,
};
use crate::routes::plans::visible_plan;

/// A link from one of a plan's items.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(example = json!({
    "id": "019ab3d4-0000-7000-8000-000000000001",
    "plan_id": "019ab3d0-1c2d-7e3f-8a4b-5c6d7e8f9a0b",
    "item_id": "019ab3d0-1c2d-7e3f-8a4b-5c6d7e8f9a1c",
    "type": "sello",
    "target_id": "019ab3c2-7d10-7a3e-8e44-2f7c1b9d0e99",
    "indicator_code": null,
    "objective": null,
    "target_name": "Formación técnico profesional de excelencia",
    "valid_from": "2019-03-01",
    "valid_to": null,
    "note": null,
    "version": 1,
    "created_at": "2026-11-24T05:00:00.123456Z"
}))]
pub struct PlanLink {
    pub id: Uuid,
    pub plan_id: Uuid,
    /// The plan's item it starts from: an action, or a goal for `indicator`.
    pub item_id: Uuid,
    #[serde(rename = "type")]
    pub link_type: LinkType,
    /// What it links to (every type but `indicator`): a sello, a catalogue item, a network,
    /// an agreement, an improvement cycle or another plan's item.
    pub target_id: Option<Uuid>,
    /// For `indicator`: the indicator's code.
    pub indicator_code: Option<String>,
    /// For `network_objective`: the network's objective, as the network states it.
    pub objective: Option<String>,
    /// What the target is called now (a sello's or network's name, an agreement's text);
    /// `null` when it no longer exists or has no name.
    pub target_name: Option<String>,
    /// In force from this day…
    pub valid_from: NaiveDate,
    /// …to this day (included); `null` while it lasts.
    pub valid_to: Option<NaiveDate>,
    pub note: Option<String>,
    pub version: i64,
    #[serde(serialize_with = "crate::json::timestamp")]
    pub created_at: DateTime<Utc>,
}

/// The body of `POST /api/v1/plans/{id}/links`.
#[derive(Debug, Deserialize, ToSchema)]
#[schema(example = json!({
    "item_id": "019ab3d0-1c2d-7e3f-8a4b-5c6d7e8f9a1c",
    "type": "indicator",
    "indicator_code": "ASISTENCIA_PROMEDIO",
    "valid_from": "2019-03-01"
}))]
pub struct LinkInput {
    /// One of the plan's items: an action (a goal for `indicator`).
    pub item_id: Uuid,
    #[serde(rename = "type")]
    pub link_type: LinkType,
    /// Required for every type but `indicator`.
    #[serde(default)]
    pub target_id: Option<Uuid>,
    /// Required for `indicator`: 1-100 letters, digits, `_`, `-` or `.`.
    #[serde(default)]
    #[schema(min_length = 1, max_length = 100)]
    pub indicator_code: Option<String>,
    /// Required for `network_objective`: the network's objective or one of its work plans'
    /// objectives, as written there.
    #[serde(default)]
    #[schema(max_length = 2000)]
    pub objective: Option<String>,
    /// Today when absent.
    #[serde(default)]
    pub valid_from: Option<NaiveDate>,
    /// Not before `valid_from`.
    #[serde(default)]
    pub valid_to: Option<NaiveDate>,
    /// Up to 2,000 characters.
    #[serde(default)]
    #[schema(max_length = 2000)]
    pub note: Option<String>,
}

/// The body of `PATCH /api/v1/plans/{id}/links/{link_id}`: end a link (or reopen it with
/// `valid_to: null`) or change its note. What it links cannot change: delete it and make
/// another.
#[derive(Debug, ToSchema)]
#[schema(example = json!({"valid_to": "2020-12-31"}))]
#[expect(
    dead_code,
    reason = "documents the PATCH body; the patch is read as JSON"
)]
pub struct LinkPatch {
    valid_to: Option<NaiveDate>,
    #[schema(max_length = 2000)]
    note: Option<String>,
}

fn link_of(row: LinkRow, names: &std::collections::HashMap<Uuid, String>) -> ApiResult<PlanLink> {
    let corrupt = |what: &str| {
        let id = row.id.0;
        ApiError::internal(anyhow::anyhow!("plan link {id} has bad {what}"))
    };
    let link_type: LinkType = row.link_type.parse().map_err(|_| corrupt("type"))?;
    let day =
        |value: &str| NaiveDate::parse_from_str(value, "%Y-%m-%d").map_err(|_| corrupt("date"));
    let (indicator_code, objective) = match link_type {
        LinkType::Indicator => (row.target_text.clone(), None),
        LinkType::NetworkObjective => (None, row.target_text.clone()),
        _ => (None, None),
    };
    Ok(PlanLink {
        id: row.id.0,
        plan_id: row.plan_id.0,
        item_id: row.item_id.0,
        link_type,
        target_id: row.target_id.map(|t| t.0),
        indicator_code,
        objective,
        target_name: row.target_id.and_then(|t| names.get(&t.0).cloned()),
        valid_from: day(&row.valid_from)?,
        valid_to: row.valid_to.as_deref().map(day).transpose()?,
        note: row.note,
        version: row.version,
        created_at: row.created_at.get(),
    })
}

/// The objectives a network states: its own and its work plans'.
pub fn network_objectives(network: &crate::repository::networks::NetworkRow) -> Vec<String> {
    let mut objectives: Vec<String> = network.objective.iter().cloned().collect();
    if let Ok(Value::Object(plans)) = serde_json::from_str::<Value>(&network.work_plans) {
        for plan in plans.values() {
            for objective in plan["objectives"].as_array().into_iter().flatten() {
                if let Some(objective) = objective.as_str() {
                    objectives.push(objective.to_owned());
                }
            }
        }
    }
    objectives
}

/// Whether `target` names something this type of link may reach from `plan`, as the caller
/// sees it. Issues go to `v`.
fn check_target(
    v: &mut Validator,
    conn: &mut DbConnection,
    plan: &PlanRow,
    input: &LinkInput,
    scope: &TerritoryScope,
) -> ApiResult<()> {
    let kind: PlanKind = plan
        .kind
        .parse()
        .map_err(|_| ApiError::internal(anyhow::anyhow!("plan {} has a bad kind", plan.id.0)))?;
    let Some(target) = input.target_id else {
        return Ok(());
    };
    let unknown = |v: &mut Validator| v.issue("/target_id", IssueKind::UnknownReference);
    match input.link_type {
        LinkType::Indicator => {}
        LinkType::Sello => {
            let sellos = match plan.school_id {
                Some(school) => pei::current(conn, school.0)?
                    .map(|p| p.sellos)
                    .unwrap_or_default(),
                None => Vec::new(),
            };
            if !sellos.iter().any(|s| s.id.0 == target) {
                unknown(v);
            }
        }
        LinkType::PlanNormativo => {
            let planes = catalogues::list(
                conn,
                Some(CatalogueKind::PlanesNormativos.as_str()),
                Some(&plan.country),
            )?;
            let items = catalogues::items_of(conn, planes.iter().map(|c| c.id).collect())?;
            let known = items
                .values()
                .flatten()
                .any(|item| item.id.0 == target && item.level == ItemLevel::Plan.as_str());
            if !known {
                unknown(v);
            }
        }
        LinkType::NetworkObjective => {
            let Some(network) = networks::find(conn, target, scope)? else {
                unknown(v);
                return Ok(());
            };
            let member = match plan.school_id {
                Some(school) => {
                    networks::memberships_of(conn, networks::MemberRef::School(school.0), None)?
                        .iter()
                        .any(|(_, n)| n.id == network.id)
                }
                None => false,
            };
            if !member {
                v.issue("/target_id", IssueKind::NotApplicable);
            }
            if let Some(objective) = &input.objective
                && !network_objectives(&network).contains(&text(objective))
            {
                v.issue("/objective", IssueKind::UnknownReference);
            }
        }
        LinkType::Agreement => {
            let visible = match repo::agreement_network(conn, target)? {
                Some(network) => networks::find(conn, network, scope)?.is_some(),
                None => false,
            };
            if !visible {
                unknown(v);
            }
        }
        LinkType::ImprovementCycle => {
            if !repo::improvement_cycle_visible(conn, target, scope)? {
                unknown(v);
            }
        }
        LinkType::Supports => {
            // From a PAM to an item of a PMI of one of the Secretaría's schools.
            if kind != PlanKind::Pam {
                v.issue("/type", IssueKind::NotApplicable);
                return Ok(());
            }
            let supported = match repo::find_item_anywhere(conn, target, scope)? {
                Some((_, target_plan)) if target_plan.kind == PlanKind::Pmi.as_str() => {
                    match target_plan.school_id {
                        Some(school) => schools_repo::find(conn, school.0, scope)?
                            .is_some_and(|s| s.secretaria_id == plan.organization_id),
                        None => false,
                    }
                }
                _ => false,
            };
            if !supported {
                unknown(v);
            }
        }
    }
    Ok(())
}

/// Validates a new link of `plan`: the item is the plan's, at the level the type starts from;
/// the target fits the type; the dates are in order.
pub fn validate(
    input: LinkInput,
    plan: &PlanRow,
    scope: &TerritoryScope,
    conn: &mut DbConnection,
) -> ApiResult<LinkRow> {
    let mut v = Validator::new();
    let items = repo::items_of(conn, vec![plan.id])?
        .remove(&plan.id.0)
        .unwrap_or_default();
    match items.iter().find(|i| i.id.0 == input.item_id) {
        Some(item) if item.level == input.link_type.source_level().as_str() => {}
        Some(_) => v.issue(
            "/item_id",
            IssueKind::WrongKind {
                allowed: vec![input.link_type.source_level().as_str()],
            },
        ),
        None => v.issue("/item_id", IssueKind::UnknownReference),
    }
    let school_only = matches!(
        input.link_type,
        LinkType::Sello | LinkType::NetworkObjective
    );
    if school_only && plan.school_id.is_none() {
        v.issue("/type", IssueKind::NotApplicable);
    }
    match (input.link_type, &input.target_id, &input.indicator_code) {
        (LinkType::Indicator, _, None) => v.issue("/indicator_code", IssueKind::Required),
        (LinkType::Indicator, Some(_), _) => v.issue("/target_id", IssueKind::NotApplicable),
        (LinkType::Indicator, None, Some(_)) => {}
        (_, None, _) => v.issue("/target_id", IssueKind::Required),
        (_, Some(_), Some(_)) => v.issue("/indicator_code", IssueKind::NotApplicable),
        (_, Some(_), None) => {}
    }
    match (input.link_type, &input.objective) {
        (LinkType::NetworkObjective, None) => v.issue("/objective", IssueKind::Required),
        (LinkType::NetworkObjective, Some(_)) | (_, None) => {}
        (_, Some(_)) => v.issue("/objective", IssueKind::NotApplicable),
    }
    let valid_from = input.valid_from.unwrap_or_else(|| Utc::now().date_naive());
    if let Some(valid_to) = input.valid_to
        && valid_to < valid_from
    {
        v.issue(
            "/valid_to",
            IssueKind::NotAfter {
                field: "valid_from",
            },
        );
    }
    if !v.has_issues() {
        check_target(&mut v, conn, plan, &input, scope)?;
    }
    let row = LinkRow {
        id: DbUuid(Uuid::now_v7()),
        plan_id: plan.id,
        item_id: DbUuid(input.item_id),
        link_type: input.link_type.as_str().to_owned(),
        target_id: input.target_id.map(DbUuid),
        target_text: match input.link_type {
            LinkType::Indicator => input.indicator_code.as_deref().map(text),
            LinkType::NetworkObjective => input.objective.as_deref().map(text),
            _ => None,
        },
        valid_from: valid_from.to_string(),
        valid_to: input.valid_to.map(|d| d.to_string()),
        note: optional_text(input.note.as_deref()),
        version: 1,
        created_at: DbTime::now(),
    };
    if !v.has_issues() && repo::has_link(conn, &row, &row.valid_from)? {
        v.issue("/target_id", IssueKind::Duplicate);
    }
    v.finish()?;
    Ok(row)
}

/// Filters and paging of a plan's links.
#[derive(Debug, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct LinkListParams {
    /// Only these types (repeatable).
    #[param(inline)]
    pub r#type: Option<Vec<LinkType>>,
    /// Only links from this item.
    pub item_id: Option<Uuid>,
    /// Only links to this target.
    pub target_id: Option<Uuid>,
    /// Only links in force on this day (`YYYY-MM-DD`).
    #[param(example = "2019-06-30")]
    pub on: Option<NaiveDate>,
    /// Page size, 1-500.
    #[param(minimum = 1, maximum = 500, default = 50)]
    pub limit: Option<i64>,
    /// The `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

/// A page of a plan's links.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"items": [], "next_cursor": null}))]
pub struct LinkPage {
    pub items: Vec<PlanLink>,
    /// Pass as `cursor` for the next page; `null` on the last page.
    pub next_cursor: Option<String>,
}

/// List a plan's links.
///
/// In the order they were made, each with what its target is called now.
#[utoipa::path(
    tag = "plans",
    operation_id = "list_plan_links",
    params(("id" = Uuid, Path, description = "The plan's id."), LinkListParams),
    responses(
        (status = 200, description = "A page of links.", body = LinkPage),
        (status = 400, response = responses::BadRequest),
        (status = 401, response = responses::Unauthorized),
        (status = 403, response = responses::Forbidden),
        (status = 404, response = responses::NotFound),
        (status = 503, response = responses::Unavailable),
    ),
    security(("bearer" = ["plans:read"]))
)]
#[get("/plans/{id}/links")]
pub async fn list_plan_links(
    auth: Authorized<PlansRead>,
    query: QueryParams,
    path: web::Path<String>,
    db: web::Data<Db>,
) -> ApiResult<Json<LinkPage>> {
    let mut reader = query.reader(&["type", "item_id", "target_id", "on", "limit", "cursor"]);
    let types: Vec<LinkType> = reader.choices("type", LinkType::NAMES);
    let filter = LinkFilter {
        types: types.iter().map(|t| t.as_str().to_owned()).collect(),
        item_id: reader.uuid("item_id"),
        target_id: reader.uuid("target_id"),
        on: reader.date("on").map(|d| d.to_string()),
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
    let id = path_id(Resource::Plan, &path)?;
    let scope = TerritoryScope::of(&auth.principal);
    let page = filter.page.clone();
    let (rows, names) = db
        .read(move |conn| {
            visible_plan(conn, id, &scope)?;
            let rows = repo::list_links(conn, id, &filter)?;
            let names = repo::target_names(conn, &rows)?;
            Ok((rows, names))
        })
        .await?;
    let (rows, next) = into_page(rows, &page, |r| NameCursor::encode("", r.id.0));
    Ok(Json(LinkPage {
        items: rows
            .into_iter()
            .map(|row| link_of(row, &names))
            .collect::<ApiResult<_>>()?,
        next_cursor: next,
    }))
}

/// Link a plan's item.
///
/// From an action to a sello of the school's current PEI, a plan normativo, an objective of a
/// network the school belongs to, a session agreement the caller sees, an improvement cycle,
/// or (from a PAM's action) an item of a PMI of one of the Secretaría's schools; from a goal
/// to an indicator, by code. The same link in force twice is refused. Answers 201.
#[utoipa::path(
    tag = "plans",
    operation_id = "create_plan_link",
    params(("id" = Uuid, Path, description = "The plan's id.")),
    request_body(content = LinkInput, description = "The link."),
    responses(
        (status = 201, description = "Created.", body = PlanLink,
            headers(("ETag" = String, description = "The version, for If-Match."),
                    ("Location" = String, description = "The link's URL."))),
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
    security(("bearer" = ["plans:write"]))
)]
#[post("/plans/{id}/links")]
pub async fn create_plan_link(
    auth: Authorized<PlansWrite>,
    _query: NoParams,
    path: web::Path<String>,
    body: web::Json<Value>,
    db: web::Data<Db>,
) -> ApiResult<HttpResponse> {
    let id = path_id(Resource::Plan, &path)?;
    let input = checked::<LinkInput>("create_plan_link", &body)?;
    let scope = TerritoryScope::of(&auth.principal);
    let (row, names) = db
        .write(move |tx| {
            let plan = visible_plan(tx.conn(), id, &scope)?;
            let row = validate(input, &plan, &scope, tx.conn())?;
            repo::insert_link(tx, &row, &plan.territory_path)?;
            let names = repo::target_names(tx.conn(), std::slice::from_ref(&row))?;
            Ok((row, names))
        })
        .await?;
    let link = link_of(row, &names)?;
    Ok(created(
        format!("/api/v1/plans/{id}/links/{}", link.id),
        link.version,
        &link,
    ))
}

fn link_ids(path: &(String, String)) -> ApiResult<(Uuid, Uuid)> {
    Ok((
        path_id(Resource::Plan, &path.0)?,
        path_id(Resource::PlanLink, &path.1)?,
    ))
}

/// Get a link of a plan.
///
/// With what its target is called now and its `ETag`; `If-None-Match` with the current ETag
/// answers 304.
#[utoipa::path(
    tag = "plans",
    operation_id = "get_plan_link",
    params(
        ("id" = Uuid, Path, description = "The plan's id."),
        ("link_id" = Uuid, Path, description = "The link's id."),
    ),
    responses(
        (status = 200, description = "The link.", body = PlanLink,
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
#[get("/plans/{id}/links/{link_id}")]
pub async fn get_plan_link(
    auth: Authorized<PlansRead>,
    _query: NoParams,
    path: web::Path<(String, String)>,
    preconditions: Preconditions,
    db: web::Data<Db>,
) -> ApiResult<HttpResponse> {
    let (id, link_id) = link_ids(&path)?;
    let scope = TerritoryScope::of(&auth.principal);
    let (row, names) = db
        .read(move |conn| {
            visible_plan(conn, id, &scope)?;
            let row = repo::find_link(conn, id, link_id)?
                .ok_or_else(|| ApiError::not_found(Resource::PlanLink, link_id))?;
            let names = repo::target_names(conn, std::slice::from_ref(&row))?;
            Ok((row, names))
        })
        .await?;
    if preconditions.not_modified(row.version) {
        return Ok(not_modified(row.version));
    }
    let link = link_of(row, &names)?;
    Ok(with_etag(HttpResponse::Ok(), link.version, &link))
}

/// End or annotate a link.
///
/// A JSON merge patch of `valid_to` and `note`: a link is ended rather than deleted when it
/// stops holding, so the history stays. With `If-Match`, answers 412 if it changed since.
#[utoipa::path(
    tag = "plans",
    operation_id = "update_plan_link",
    params(
        ("id" = Uuid, Path, description = "The plan's id."),
        ("link_id" = Uuid, Path, description = "The link's id."),
    ),
    request_body(content = LinkPatch, description = "The fields to change.",
        content_type = "application/merge-patch+json"),
    responses(
        (status = 200, description = "Changed.", body = PlanLink,
            headers(("ETag" = String, description = "The new version."))),
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
#[patch("/plans/{id}/links/{link_id}")]
pub async fn update_plan_link(
    auth: Authorized<PlansWrite>,
    _query: NoParams,
    path: web::Path<(String, String)>,
    body: web::Json<Value>,
    preconditions: Preconditions,
    db: web::Data<Db>,
) -> ApiResult<HttpResponse> {
    let (id, link_id) = link_ids(&path)?;
    check_patch("update_plan_link", &body)?;
    let patch = body.into_inner();
    let scope = TerritoryScope::of(&auth.principal);
    let (row, names) = db
        .write(move |tx| {
            let plan = visible_plan(tx.conn(), id, &scope)?;
            let current = repo::find_link(tx.conn(), id, link_id)?
                .ok_or_else(|| ApiError::not_found(Resource::PlanLink, link_id))?;
            preconditions.check_write(current.version)?;
            let valid_to = match patch.get("valid_to") {
                None => current.valid_to.clone(),
                Some(Value::Null) => None,
                Some(value) => value.as_str().map(str::to_owned),
            };
            let note = match patch.get("note") {
                None => current.note.clone(),
                Some(value) => optional_text(value.as_str()),
            };
            if let Some(valid_to) = &valid_to
                && *valid_to < current.valid_from
            {
                let mut v = Validator::new();
                v.issue(
                    "/valid_to",
                    IssueKind::NotAfter {
                        field: "valid_from",
                    },
                );
                v.finish()?;
            }
            let row = match repo::update_link(tx, &current, valid_to, note, &plan.territory_path)? {
                UpdateOutcome::Done(row) => row,
                UpdateOutcome::Concurrent => return Err(ApiError::ConcurrentChange),
            };
            let names = repo::target_names(tx.conn(), std::slice::from_ref(&row))?;
            Ok((row, names))
        })
        .await?;
    let link = link_of(row, &names)?;
    Ok(with_etag(HttpResponse::Ok(), link.version, &link))
}

/// Delete a link.
///
/// For a link made by mistake; end one that stopped holding with `PATCH` instead. With
/// `If-Match`, answers 412 if it changed since.
#[utoipa::path(
    tag = "plans",
    operation_id = "delete_plan_link",
    params(
        ("id" = Uuid, Path, description = "The plan's id."),
        ("link_id" = Uuid, Path, description = "The link's id."),
    ),
    responses(
        (status = 204, description = "Deleted."),
        (status = 400, response = responses::BadRequest),
        (status = 401, response = responses::Unauthorized),
        (status = 403, response = responses::Forbidden),
        (status = 404, response = responses::NotFound),
        (status = 412, response = responses::PreconditionFailed),
        (status = 503, response = responses::Unavailable),
    ),
    security(("bearer" = ["plans:write"]))
)]
#[delete("/plans/{id}/links/{link_id}")]
pub async fn delete_plan_link(
    auth: Authorized<PlansWrite>,
    _query: NoParams,
    path: web::Path<(String, String)>,
    preconditions: Preconditions,
    db: web::Data<Db>,
) -> ApiResult<HttpResponse> {
    let (id, link_id) = link_ids(&path)?;
    let scope = TerritoryScope::of(&auth.principal);
    db.write(move |tx| {
        let plan = visible_plan(tx.conn(), id, &scope)?;
        let current = repo::find_link(tx.conn(), id, link_id)?
            .ok_or_else(|| ApiError::not_found(Resource::PlanLink, link_id))?;
        preconditions.check_write(current.version)?;
        match repo::delete_link(tx, &current, &plan.territory_path)? {
            UpdateOutcome::Done(()) => Ok(()),
            UpdateOutcome::Concurrent => Err(ApiError::ConcurrentChange),
        }
    })
    .await?;
    Ok(HttpResponse::NoContent().finish())
}
