//! `/api/v1/people`: the people who take part in networks. Personal data: every route needs
//! a `people:` scope and sees only people in the caller's territories.

use std::sync::Arc;

use actix_web::{HttpResponse, delete, get, patch, post, put, web};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::auth::scopes::{PeopleRead, PeopleWrite};
use crate::auth::{Authorized, TerritoryScope};
use crate::body::{Validator, text};
use crate::catalog::Catalogue;
use crate::db::{Db, DbConnection, DbUuid};
use crate::domain::Country;
use crate::domain::network::Position;
use crate::domain::text::fold;
use crate::domain::{TerritoryLevel, TerritoryRef};
use crate::error::{ApiError, ApiResult, IssueKind, Resource};
use crate::etag::Preconditions;
use crate::json::Json;
use crate::openapi::responses;
use crate::pagination::into_page;
use crate::query::{NoParams, QueryParams};
use crate::repository::people::{
    self as repo, AffiliationData, PersonData, PersonFilter, PersonRecord,
};
use crate::repository::{NameCursor, UpdateOutcome, organizations, schools};
use crate::routes::common::{
    body_territory, check_patch, checked, created, in_state, merged, not_modified, optional_text,
    path_id, with_etag,
};
use crate::routes::networks::Membership;

/// Where a person works: a school or an organisation, and the position held there.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema, PartialEq, Eq)]
#[schema(example = json!({
    "school_id": "56109f40-17b6-42a2-80a0-1ee14ff99828",
    "position": "director"
}))]
pub struct Affiliation {
    /// The school, for a position at a school.
    #[serde(default)]
    pub school_id: Option<Uuid>,
    /// The organisation (a sostenedor, a DEPROV, a Secretaría), otherwise.
    #[serde(default)]
    pub organization_id: Option<Uuid>,
    pub position: Position,
}

/// A person who takes part in networks: a director, a jefe técnico, a supervisor, a member of a
/// Secretaría's team. Redes stores no national ID numbers.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(example = json!({
    "id": "019ab3c2-7d10-7a3e-8e44-2f7c1b9d0e66",
    "name": "María González",
    "email": "maria.gonzalez@example.cl",
    "phone": "+56 9 1234 5678",
    "country": "CL",
    "territory": "CL-09105",
    "territory_id": "c5a2e2ea-c6dc-517a-820d-0af97cd0b3f0",
    "affiliations": [{"school_id": "56109f40-17b6-42a2-80a0-1ee14ff99828",
        "organization_id": null, "position": "director"}],
    "created_at": "2026-11-23T19:23:00.123456Z",
    "updated_at": "2026-11-23T19:23:00.123456Z"
}))]
pub struct Person {
    pub id: Uuid,
    /// The person's name.
    pub name: String,
    pub email: Option<String>,
    pub phone: Option<String>,
    /// The country of their territory.
    pub country: Country,
    /// The key of the territory they belong to (where their data may be seen).
    pub territory: String,
    pub territory_id: Uuid,
    /// Where they work, and as what.
    pub affiliations: Vec<Affiliation>,
    #[serde(serialize_with = "crate::json::timestamp")]
    pub created_at: DateTime<Utc>,
    #[serde(serialize_with = "crate::json::timestamp")]
    pub updated_at: DateTime<Utc>,
}

/// The body of `POST` and `PUT /api/v1/people`.
#[derive(Debug, Deserialize, ToSchema)]
#[schema(example = json!({
    "name": "María González",
    "email": "maria.gonzalez@example.cl",
    "territory": "CL-09105",
    "affiliations": [{"school_id": "56109f40-17b6-42a2-80a0-1ee14ff99828", "position": "director"}]
}))]
pub struct PersonInput {
    /// The person's name (1-200 characters, not blank; trimmed).
    #[schema(example = "María González", min_length = 1, max_length = 200)]
    pub name: String,
    /// An e-mail address (up to 254 characters).
    #[serde(default)]
    #[schema(max_length = 254, example = "maria.gonzalez@example.cl")]
    pub email: Option<String>,
    /// A phone number: digits, spaces, `()-` and a leading `+`.
    #[serde(default)]
    #[schema(max_length = 30, example = "+56 9 1234 5678")]
    pub phone: Option<String>,
    /// The territory the person belongs to, by key or id, at any level; it must be in the
    /// caller's territories. Their data is visible where this territory is.
    #[schema(example = "CL-09105")]
    pub territory: String,
    /// Up to 20: each names exactly one of a school the caller sees and an organisation the
    /// caller sees (or whose territory contains the person's).
    #[serde(default)]
    #[schema(max_items = 20)]
    pub affiliations: Option<Vec<Affiliation>>,
}

/// The body of `PATCH /api/v1/people/{id}`: a JSON merge patch (the affiliation list is
/// replaced whole). `null` removes an optional field.
#[derive(Debug, ToSchema)]
#[schema(example = json!({"phone": "+56 9 8765 4321"}))]
#[expect(
    dead_code,
    reason = "documents the PATCH body; the patch is merged as JSON"
)]
pub struct PersonPatch {
    #[schema(min_length = 1, max_length = 200)]
    name: Option<String>,
    #[schema(max_length = 254)]
    email: Option<String>,
    #[schema(max_length = 30)]
    phone: Option<String>,
    territory: Option<String>,
    #[schema(max_items = 20)]
    affiliations: Option<Vec<Affiliation>>,
}

struct Context {
    catalogue: Arc<Catalogue>,
    scope: TerritoryScope,
}

/// The rules of a person no schema can state: the territory is the caller's, every school and
/// organisation named exists and may be referred to.
fn validate(
    input: PersonInput,
    ctx: &Context,
    conn: &mut DbConnection,
) -> ApiResult<(PersonData, Vec<AffiliationData>)> {
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
    let affiliations = input.affiliations.unwrap_or_default();
    for (index, affiliation) in affiliations.iter().enumerate() {
        match (affiliation.school_id, affiliation.organization_id) {
            (Some(school), None) => {
                if schools::find(conn, school, &ctx.scope)?.is_none() {
                    v.issue(
                        format!("/affiliations/{index}/school_id"),
                        IssueKind::UnknownReference,
                    );
                }
            }
            (None, Some(organization)) => {
                let path = territory.map(|t| t.path.as_str()).unwrap_or("/");
                if organizations::find_referable(conn, organization, &ctx.scope, path)?.is_none() {
                    v.issue(
                        format!("/affiliations/{index}/organization_id"),
                        IssueKind::UnknownReference,
                    );
                }
            }
            // The schema requires exactly one; this guards the match.
            _ => return Err(ApiError::internal(anyhow::anyhow!("unchecked affiliation"))),
        }
    }
    v.finish()?;
    let territory = territory.ok_or_else(|| ApiError::internal(anyhow::anyhow!("no territory")))?;
    let data = PersonData {
        search_name: fold(&text(&input.name)),
        name: text(&input.name),
        email: optional_text(input.email.as_deref()),
        phone: optional_text(input.phone.as_deref()),
        country: territory.country().as_str().to_owned(),
        territory_id: DbUuid(territory.id),
        territory_path: territory.path.clone(),
    };
    let affiliations = affiliations
        .into_iter()
        .map(|a| AffiliationData {
            school_id: a.school_id.map(DbUuid),
            organization_id: a.organization_id.map(DbUuid),
            position: a.position.as_str().to_owned(),
        })
        .collect();
    Ok((data, affiliations))
}

impl Person {
    fn from_record(record: PersonRecord, catalogue: &Catalogue) -> ApiResult<Person> {
        let PersonRecord {
            person,
            affiliations,
        } = record;
        let id = person.id.0;
        let corrupt =
            |what: &str| ApiError::internal(anyhow::anyhow!("person {id} has a bad {what}"));
        let territory = catalogue
            .resolve(&TerritoryRef::Id(person.territory_id.0))
            .ok_or_else(|| corrupt("territory"))?;
        Ok(Person {
            id,
            country: person.country.parse().map_err(|()| corrupt("country"))?,
            territory: territory.key.to_string(),
            territory_id: person.territory_id.0,
            affiliations: affiliations
                .into_iter()
                .map(|a| {
                    Ok(Affiliation {
                        school_id: a.school_id.map(|s| s.0),
                        organization_id: a.organization_id.map(|o| o.0),
                        position: a.position.parse().map_err(|()| corrupt("position"))?,
                    })
                })
                .collect::<ApiResult<_>>()?,
            name: person.name,
            email: person.email,
            phone: person.phone,
            created_at: person.created_at.get(),
            updated_at: person.updated_at.get(),
        })
    }

    fn as_input(&self) -> Value {
        json!({
            "name": self.name,
            "email": self.email,
            "phone": self.phone,
            "territory": self.territory,
            "affiliations": self.affiliations,
        })
    }
}

/// A page of people.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"items": [], "next_cursor": null}))]
pub struct PersonPage {
    pub items: Vec<Person>,
    /// Pass as `cursor` for the next page; `null` on the last page.
    pub next_cursor: Option<String>,
}

/// Filters of `GET /api/v1/people`.
#[derive(Debug, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PersonListParams {
    /// Only people whose territory is in this territory's subtree (key or id).
    #[param(example = "CL-09")]
    pub territory: Option<String>,
    /// Name search, ignoring case and accents.
    #[param(example = "gonzalez", max_length = 100)]
    pub q: Option<String>,
    /// Only people affiliated with this school.
    pub school_id: Option<Uuid>,
    /// Only people affiliated with this organisation.
    pub organization_id: Option<Uuid>,
    /// Only people holding one of these positions (repeatable).
    #[param(inline)]
    pub position: Option<Vec<Position>>,
    /// Page size, 1-500.
    #[param(minimum = 1, maximum = 500, default = 50)]
    pub limit: Option<i64>,
    /// The `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

const LIST_PARAMS: &[&str] = &[
    "territory",
    "q",
    "school_id",
    "organization_id",
    "position",
    "limit",
    "cursor",
];

/// List people.
///
/// The people in the caller's territories, by name, with their affiliations. Filter by
/// territory subtree, name, school, organisation and position.
#[utoipa::path(
    tag = "people",
    operation_id = "list_people",
    params(PersonListParams),
    responses(
        (status = 200, description = "A page of people.", body = PersonPage),
        (status = 400, response = responses::BadRequest),
        (status = 401, response = responses::Unauthorized),
        (status = 403, response = responses::Forbidden),
        (status = 404, response = responses::UnknownReference),
        (status = 503, response = responses::Unavailable),
    ),
    security(("bearer" = ["people:read"]))
)]
#[get("/people")]
pub async fn list_people(
    auth: Authorized<PeopleRead>,
    query: QueryParams,
    db: web::Data<Db>,
    catalogue: web::Data<Catalogue>,
) -> ApiResult<Json<PersonPage>> {
    let mut reader = query.reader(LIST_PARAMS);
    let positions: Vec<Position> = reader.choices("position", Position::NAMES);
    let filter = PersonFilter {
        territory_path: reader
            .territory("territory", &catalogue)
            .map(|t| t.path.clone()),
        name_contains: reader.text("q", 100),
        school_id: reader.uuid("school_id"),
        organization_id: reader.uuid("organization_id"),
        positions: positions.iter().map(|p| p.as_str().to_owned()).collect(),
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
        NameCursor::encode(&row.person.search_name, row.person.id.0)
    });
    Ok(Json(PersonPage {
        items: rows
            .into_iter()
            .map(|row| Person::from_record(row, &catalogue))
            .collect::<ApiResult<_>>()?,
        next_cursor: next,
    }))
}

/// Create a person.
///
/// In a territory of the caller's. Answers 201 with the person, its `Location` and `ETag`.
#[utoipa::path(
    tag = "people",
    operation_id = "create_person",
    request_body(content = PersonInput, description = "The new person."),
    responses(
        (status = 201, description = "Created.", body = Person,
            headers(("ETag" = String, description = "The version, for If-Match."),
                    ("Location" = String, description = "The person's URL."))),
        (status = 400, response = responses::MalformedBody),
        (status = 401, response = responses::Unauthorized),
        (status = 403, response = responses::ForbiddenTerritory),
        (status = 409, response = responses::Conflict),
        (status = 413, response = responses::PayloadTooLarge),
        (status = 415, response = responses::UnsupportedMediaType),
        (status = 422, response = responses::UnprocessableEntity),
        (status = 503, response = responses::Unavailable),
    ),
    security(("bearer" = ["people:write"]))
)]
#[post("/people")]
pub async fn create_person(
    auth: Authorized<PeopleWrite>,
    _query: NoParams,
    body: web::Json<Value>,
    db: web::Data<Db>,
    catalogue: web::Data<Catalogue>,
) -> ApiResult<HttpResponse> {
    let ctx = Context {
        catalogue: catalogue.clone().into_inner(),
        scope: TerritoryScope::of(&auth.principal),
    };
    let input = checked::<PersonInput>("create_person", &body)?;
    let record = db
        .write(move |tx| {
            let (data, affiliations) = validate(input, &ctx, tx.conn())?;
            Ok(repo::insert(tx, Uuid::now_v7(), &data, &affiliations)?)
        })
        .await?;
    let version = record.person.version;
    let person = Person::from_record(record, &catalogue)?;
    Ok(created(
        format!("/api/v1/people/{}", person.id),
        version,
        &person,
    ))
}

/// Get a person.
///
/// With their `ETag`; `If-None-Match` with the current ETag answers 304.
#[utoipa::path(
    tag = "people",
    operation_id = "get_person",
    params(("id" = Uuid, Path, description = "The person's id.")),
    responses(
        (status = 200, description = "The person.", body = Person,
            headers(("ETag" = String, description = "The version, for If-Match and If-None-Match."))),
        (status = 304, description = "Not modified: the `If-None-Match` ETag is current."),
        (status = 400, response = responses::BadRequest),
        (status = 401, response = responses::Unauthorized),
        (status = 403, response = responses::Forbidden),
        (status = 404, response = responses::NotFound),
        (status = 503, response = responses::Unavailable),
    ),
    security(("bearer" = ["people:read"]))
)]
#[get("/people/{id}")]
pub async fn get_person(
    auth: Authorized<PeopleRead>,
    _query: NoParams,
    path: web::Path<String>,
    preconditions: Preconditions,
    db: web::Data<Db>,
    catalogue: web::Data<Catalogue>,
) -> ApiResult<HttpResponse> {
    let id = path_id(Resource::Person, &path)?;
    let scope = TerritoryScope::of(&auth.principal);
    let record = db
        .read_short(move |conn| Ok(repo::find_record(conn, id, &scope)?))
        .await?
        .ok_or_else(|| ApiError::not_found(Resource::Person, id))?;
    let version = record.person.version;
    if preconditions.not_modified(version) {
        return Ok(not_modified(version));
    }
    Ok(with_etag(
        HttpResponse::Ok(),
        version,
        &Person::from_record(record, &catalogue)?,
    ))
}

/// Replaces (PUT) or merges (PATCH) a person.
async fn update(
    auth: Authorized<PeopleWrite>,
    raw_id: &str,
    body: Value,
    merge: bool,
    preconditions: Preconditions,
    db: web::Data<Db>,
    catalogue: web::Data<Catalogue>,
) -> ApiResult<HttpResponse> {
    let id = path_id(Resource::Person, raw_id)?;
    let replacement = if merge {
        check_patch("update_person", &body)?;
        None
    } else {
        Some(checked::<PersonInput>("replace_person", &body)?)
    };
    let ctx = Context {
        catalogue: catalogue.clone().into_inner(),
        scope: TerritoryScope::of(&auth.principal),
    };
    let record = db
        .write(move |tx| {
            let current = repo::find_record(tx.conn(), id, &ctx.scope)?
                .ok_or_else(|| ApiError::not_found(Resource::Person, id))?;
            preconditions.check_write(current.person.version)?;
            let (data, affiliations) = match replacement {
                Some(input) => validate(input, &ctx, tx.conn())?,
                None => {
                    let document = Person::from_record(current.clone(), &ctx.catalogue)?;
                    let input: PersonInput = merged("replace_person", document.as_input(), &body)?;
                    in_state(validate(input, &ctx, tx.conn()))?
                }
            };
            match repo::update(tx, &current.person, &data, &affiliations)? {
                UpdateOutcome::Done(record) => Ok(record),
                UpdateOutcome::Concurrent => Err(ApiError::ConcurrentChange),
            }
        })
        .await?;
    let version = record.person.version;
    Ok(with_etag(
        HttpResponse::Ok(),
        version,
        &Person::from_record(record, &catalogue)?,
    ))
}

/// Replace a person.
///
/// The whole person, as in `POST`. With `If-Match`, answers 412 if it changed since.
#[utoipa::path(
    tag = "people",
    operation_id = "replace_person",
    params(("id" = Uuid, Path, description = "The person's id.")),
    request_body(content = PersonInput, description = "The person, whole."),
    responses(
        (status = 200, description = "Replaced.", body = Person,
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
    security(("bearer" = ["people:write"]))
)]
#[put("/people/{id}")]
pub async fn replace_person(
    auth: Authorized<PeopleWrite>,
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

/// Change a person.
///
/// A JSON merge patch (RFC 7396): the fields given replace (the affiliation list whole),
/// `null` removes an optional field. With `If-Match`, answers 412 if it changed since.
#[utoipa::path(
    tag = "people",
    operation_id = "update_person",
    params(("id" = Uuid, Path, description = "The person's id.")),
    request_body(content = PersonPatch, description = "The fields to change.",
        content_type = "application/merge-patch+json"),
    responses(
        (status = 200, description = "Changed.", body = Person,
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
    security(("bearer" = ["people:write"]))
)]
#[patch("/people/{id}")]
pub async fn update_person(
    auth: Authorized<PeopleWrite>,
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

/// Delete a person.
///
/// Answers 409 while a membership, an attendance record or an agreement names them. With
/// `If-Match`, answers 412 if it changed since.
#[utoipa::path(
    tag = "people",
    operation_id = "delete_person",
    params(("id" = Uuid, Path, description = "The person's id.")),
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
    security(("bearer" = ["people:write"]))
)]
#[delete("/people/{id}")]
pub async fn delete_person(
    auth: Authorized<PeopleWrite>,
    _query: NoParams,
    path: web::Path<String>,
    preconditions: Preconditions,
    db: web::Data<Db>,
) -> ApiResult<HttpResponse> {
    let id = path_id(Resource::Person, &path)?;
    let scope = TerritoryScope::of(&auth.principal);
    db.write(move |tx| {
        let current = repo::find(tx.conn(), id, &scope)?
            .ok_or_else(|| ApiError::not_found(Resource::Person, id))?;
        preconditions.check_write(current.version)?;
        if repo::is_referred_to(tx.conn(), id)? {
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

/// A person's memberships.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"items": []}))]
pub struct PersonMembershipList {
    /// By network name.
    pub items: Vec<Membership>,
}

/// List a person's networks.
///
/// Their memberships, past and present (or on a date with `on`), with their networks, by
/// network name.
#[utoipa::path(
    tag = "people",
    operation_id = "list_person_networks",
    params(("id" = Uuid, Path, description = "The person's id."),
        crate::routes::networks::SchoolNetworksParams),
    responses(
        (status = 200, description = "The person's memberships.", body = PersonMembershipList),
        (status = 400, response = responses::BadRequest),
        (status = 401, response = responses::Unauthorized),
        (status = 403, response = responses::Forbidden),
        (status = 404, response = responses::NotFound),
        (status = 503, response = responses::Unavailable),
    ),
    security(("bearer" = ["people:read"]))
)]
#[get("/people/{id}/networks")]
pub async fn list_person_networks(
    auth: Authorized<PeopleRead>,
    query: QueryParams,
    path: web::Path<String>,
    db: web::Data<Db>,
) -> ApiResult<Json<PersonMembershipList>> {
    let mut reader = query.reader(&["on"]);
    let on = reader.date("on").map(|d| d.to_string());
    reader.finish()?;
    let id = path_id(Resource::Person, &path)?;
    let scope = TerritoryScope::of(&auth.principal);
    let rows = db
        .read(move |conn| {
            repo::find(conn, id, &scope)?
                .ok_or_else(|| ApiError::not_found(Resource::Person, id))?;
            Ok(crate::repository::networks::memberships_of(
                conn,
                crate::repository::networks::MemberRef::Person(id),
                on.as_deref(),
            )?)
        })
        .await?;
    Ok(Json(PersonMembershipList {
        items: crate::routes::networks::memberships(rows)?,
    }))
}
