//! People and their affiliations.
//!
//! A person is personal data: visible only to principals whose territories contain the
//! person's territory (and who hold `people:read`, which the handlers require).

use std::collections::HashMap;

use diesel::prelude::*;
use uuid::Uuid;

use crate::audit::snapshot;
use crate::auth::TerritoryScope;
use crate::db::{DbConnection, DbTime, DbUuid, Tx};
use crate::domain::text::{escape_like, fold};
use crate::pagination::PageRequest;
use crate::repository::changes::{Change, Operation};
use crate::repository::scoped;
use crate::repository::{NameCursor, UpdateOutcome};
use crate::schema::{network_members, people, person_affiliations, session_agreements};
use crate::schema::{session_attendance, sessions};

pub const RESOURCE: &str = "person";

/// Serialised as the audit log's snapshot (where the name, e-mail and phone are masked):
/// derived and bookkeeping columns left out.
#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable, serde::Serialize)]
#[diesel(table_name = people)]
pub struct PersonRow {
    #[serde(skip)]
    pub id: DbUuid,
    pub name: String,
    #[serde(skip)]
    pub search_name: String,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub country: String,
    pub territory_id: DbUuid,
    pub territory_path: String,
    pub version: i64,
    #[serde(skip)]
    pub created_at: DbTime,
    #[serde(skip)]
    pub updated_at: DbTime,
}

/// The writable content of a person, validated.
#[derive(Debug, Clone, PartialEq, Eq, Insertable, AsChangeset)]
#[diesel(table_name = people, treat_none_as_null = true)]
pub struct PersonData {
    pub name: String,
    pub search_name: String,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub country: String,
    pub territory_id: DbUuid,
    pub territory_path: String,
}

/// One affiliation: a school or an organisation, and the position held there.
#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable)]
#[diesel(table_name = person_affiliations)]
pub struct AffiliationRow {
    pub person_id: DbUuid,
    pub ordinal: i32,
    pub school_id: Option<DbUuid>,
    pub organization_id: Option<DbUuid>,
    pub position: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AffiliationData {
    pub school_id: Option<DbUuid>,
    pub organization_id: Option<DbUuid>,
    pub position: String,
}

/// A person with their affiliations, in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PersonRecord {
    pub person: PersonRow,
    pub affiliations: Vec<AffiliationRow>,
}

impl PersonRow {
    fn new(id: Uuid, data: &PersonData, version: i64, created_at: DbTime, now: DbTime) -> Self {
        PersonRow {
            id: DbUuid(id),
            name: data.name.clone(),
            search_name: data.search_name.clone(),
            email: data.email.clone(),
            phone: data.phone.clone(),
            country: data.country.clone(),
            territory_id: data.territory_id,
            territory_path: data.territory_path.clone(),
            version,
            created_at,
            updated_at: now,
        }
    }
}

fn write_affiliations(
    tx: &mut Tx<'_>,
    id: Uuid,
    affiliations: &[AffiliationData],
) -> QueryResult<Vec<AffiliationRow>> {
    diesel::delete(
        person_affiliations::table.filter(person_affiliations::person_id.eq(DbUuid(id))),
    )
    .execute(tx.conn())?;
    let rows: Vec<AffiliationRow> = affiliations
        .iter()
        .zip(0..)
        .map(|(a, ordinal)| AffiliationRow {
            person_id: DbUuid(id),
            ordinal,
            school_id: a.school_id,
            organization_id: a.organization_id,
            position: a.position.clone(),
        })
        .collect();
    for row in &rows {
        diesel::insert_into(person_affiliations::table)
            .values((
                person_affiliations::person_id.eq(row.person_id),
                person_affiliations::ordinal.eq(row.ordinal),
                person_affiliations::school_id.eq(row.school_id),
                person_affiliations::organization_id.eq(row.organization_id),
                person_affiliations::position.eq(&row.position),
            ))
            .execute(tx.conn())?;
    }
    Ok(rows)
}

pub fn insert(
    tx: &mut Tx<'_>,
    id: Uuid,
    data: &PersonData,
    affiliations: &[AffiliationData],
) -> QueryResult<PersonRecord> {
    let now = DbTime::now();
    diesel::insert_into(people::table)
        .values((
            people::id.eq(DbUuid(id)),
            data,
            people::version.eq(1i64),
            people::created_at.eq(now),
            people::updated_at.eq(now),
        ))
        .execute(tx.conn())?;
    let affiliations = write_affiliations(tx, id, affiliations)?;
    let person = PersonRow::new(id, data, 1, now, now);
    tx.record_diff(
        Change {
            resource: RESOURCE,
            id,
            operation: Operation::Created,
            territory_path: data.territory_path.clone(),
            previous_territory_path: None,
        },
        None,
        Some(&snapshot(&person)),
    );
    Ok(PersonRecord {
        person,
        affiliations,
    })
}

/// The person, if the scope sees them.
pub fn find(
    conn: &mut DbConnection,
    id: Uuid,
    scope: &TerritoryScope,
) -> QueryResult<Option<PersonRow>> {
    people::table
        .select(PersonRow::as_select())
        .filter(people::id.eq(DbUuid(id)))
        .filter(scoped::within(people::territory_path, scope))
        .first(conn)
        .optional()
}

/// The person with affiliations, if the scope sees them.
pub fn find_record(
    conn: &mut DbConnection,
    id: Uuid,
    scope: &TerritoryScope,
) -> QueryResult<Option<PersonRecord>> {
    let Some(person) = find(conn, id, scope)? else {
        return Ok(None);
    };
    let mut records = with_affiliations(conn, vec![person])?;
    Ok(records.pop())
}

/// Attaches their affiliations to people, in one query.
fn with_affiliations(
    conn: &mut DbConnection,
    people: Vec<PersonRow>,
) -> QueryResult<Vec<PersonRecord>> {
    if people.is_empty() {
        return Ok(Vec::new());
    }
    let ids: Vec<DbUuid> = people.iter().map(|p| p.id).collect();
    let rows: Vec<AffiliationRow> = person_affiliations::table
        .select(AffiliationRow::as_select())
        .filter(person_affiliations::person_id.eq_any(ids))
        .order((
            person_affiliations::person_id.asc(),
            person_affiliations::ordinal.asc(),
        ))
        .load(conn)?;
    let mut by_person: HashMap<Uuid, Vec<AffiliationRow>> = HashMap::new();
    for row in rows {
        by_person.entry(row.person_id.0).or_default().push(row);
    }
    Ok(people
        .into_iter()
        .map(|person| PersonRecord {
            affiliations: by_person.remove(&person.id.0).unwrap_or_default(),
            person,
        })
        .collect())
}

pub fn update(
    tx: &mut Tx<'_>,
    current: &PersonRow,
    data: &PersonData,
    affiliations: &[AffiliationData],
) -> QueryResult<UpdateOutcome<PersonRecord>> {
    let now = DbTime::now();
    let updated = diesel::update(
        people::table
            .filter(people::id.eq(current.id))
            .filter(people::version.eq(current.version)),
    )
    .set((
        data,
        people::version.eq(current.version + 1),
        people::updated_at.eq(now),
    ))
    .execute(tx.conn())?;
    if updated == 0 {
        return Ok(UpdateOutcome::Concurrent);
    }
    let affiliations = write_affiliations(tx, current.id.0, affiliations)?;
    let person = PersonRow::new(
        current.id.0,
        data,
        current.version + 1,
        current.created_at,
        now,
    );
    tx.record_diff(
        Change {
            resource: RESOURCE,
            id: current.id.0,
            operation: Operation::Updated,
            territory_path: data.territory_path.clone(),
            previous_territory_path: (current.territory_path != data.territory_path)
                .then(|| current.territory_path.clone()),
        },
        Some(&snapshot(current)),
        Some(&snapshot(&person)),
    );
    Ok(UpdateOutcome::Done(PersonRecord {
        person,
        affiliations,
    }))
}

/// Whether a membership, an attendance record, an agreement or a mentoring visit names the
/// person.
pub fn is_referred_to(conn: &mut DbConnection, id: Uuid) -> QueryResult<bool> {
    if crate::repository::mentoring_visits::names_person(conn, id)? {
        return Ok(true);
    }
    let id = DbUuid(id);
    diesel::select(
        diesel::dsl::exists(network_members::table.filter(network_members::person_id.eq(id)))
            .or(diesel::dsl::exists(
                session_attendance::table.filter(session_attendance::person_id.eq(id)),
            ))
            .or(diesel::dsl::exists(
                session_agreements::table.filter(session_agreements::owner_person_id.eq(id)),
            )),
    )
    .get_result(conn)
}

pub fn delete(tx: &mut Tx<'_>, current: &PersonRow) -> QueryResult<UpdateOutcome<()>> {
    diesel::delete(
        person_affiliations::table.filter(person_affiliations::person_id.eq(current.id)),
    )
    .execute(tx.conn())?;
    let deleted = diesel::delete(
        people::table
            .filter(people::id.eq(current.id))
            .filter(people::version.eq(current.version)),
    )
    .execute(tx.conn())?;
    if deleted == 0 {
        return Ok(UpdateOutcome::Concurrent);
    }
    tx.record_diff(
        Change {
            resource: RESOURCE,
            id: current.id.0,
            operation: Operation::Deleted,
            territory_path: current.territory_path.clone(),
            previous_territory_path: None,
        },
        Some(&snapshot(current)),
        None,
    );
    Ok(UpdateOutcome::Done(()))
}

/// Filters of the people list.
#[derive(Debug, Clone, Default)]
pub struct PersonFilter {
    /// Only people whose territory is in this subtree (a path).
    pub territory_path: Option<String>,
    pub name_contains: Option<String>,
    /// Only people affiliated with this school.
    pub school_id: Option<Uuid>,
    /// Only people affiliated with this organisation.
    pub organization_id: Option<Uuid>,
    /// Only people holding one of these positions somewhere.
    pub positions: Vec<String>,
    pub page: PageRequest,
}

/// A page of the people the scope sees, by folded name then id, with their affiliations.
pub fn list(
    conn: &mut DbConnection,
    filter: &PersonFilter,
    scope: &TerritoryScope,
) -> QueryResult<Vec<PersonRecord>> {
    use people::dsl as p;
    let mut query = p::people
        .select(PersonRow::as_select())
        .filter(scoped::within(p::territory_path, scope))
        .order((p::search_name.asc(), p::id.asc()))
        .limit(filter.page.fetch_limit())
        .into_boxed();
    if let Some(path) = &filter.territory_path {
        query = query.filter(scoped::within(
            p::territory_path,
            &TerritoryScope::from_paths([path.clone()]),
        ));
    }
    if let Some(text) = &filter.name_contains {
        let pattern = format!("%{}%", escape_like(&fold(text)));
        query = query.filter(p::search_name.like(pattern).escape('\\'));
    }
    if filter.school_id.is_some()
        || filter.organization_id.is_some()
        || !filter.positions.is_empty()
    {
        let mut affiliated = person_affiliations::table
            .select(person_affiliations::person_id)
            .into_boxed();
        if let Some(school) = filter.school_id {
            affiliated = affiliated.filter(person_affiliations::school_id.eq(DbUuid(school)));
        }
        if let Some(organization) = filter.organization_id {
            affiliated =
                affiliated.filter(person_affiliations::organization_id.eq(DbUuid(organization)));
        }
        if !filter.positions.is_empty() {
            affiliated =
                affiliated.filter(person_affiliations::position.eq_any(filter.positions.clone()));
        }
        let affiliated: Vec<DbUuid> = affiliated.distinct().load(conn)?;
        query = query.filter(p::id.eq_any(affiliated));
    }
    if let Some(cursor) = filter.page.after.as_deref().and_then(NameCursor::decode) {
        query = query.filter(
            p::search_name.gt(cursor.name.clone()).or(p::search_name
                .eq(cursor.name)
                .and(p::id.gt(DbUuid(cursor.id)))),
        );
    }
    let rows = query.load(conn)?;
    with_affiliations(conn, rows)
}

/// The names of the people among `ids` that the scope sees, by id.
pub fn names_visible(
    conn: &mut DbConnection,
    ids: Vec<DbUuid>,
    scope: &TerritoryScope,
) -> QueryResult<HashMap<Uuid, String>> {
    if ids.is_empty() {
        return Ok(HashMap::new());
    }
    let rows: Vec<(DbUuid, String)> = people::table
        .filter(people::id.eq_any(ids))
        .filter(scoped::within(people::territory_path, scope))
        .select((people::id, people::name))
        .load(conn)?;
    Ok(rows.into_iter().map(|(id, name)| (id.0, name)).collect())
}

/// Whether a session is hosted by the school, an agreement is owned by it or a person works
/// there: for deleting a school.
pub fn school_is_referred_to(conn: &mut DbConnection, id: Uuid) -> QueryResult<bool> {
    let id = DbUuid(id);
    diesel::select(
        diesel::dsl::exists(sessions::table.filter(sessions::host_school_id.eq(id)))
            .or(diesel::dsl::exists(
                session_agreements::table.filter(session_agreements::owner_school_id.eq(id)),
            ))
            .or(diesel::dsl::exists(
                person_affiliations::table.filter(person_affiliations::school_id.eq(id)),
            )),
    )
    .get_result(conn)
}

/// Whether a person is affiliated with the organisation: for deleting it.
pub fn organization_has_people(conn: &mut DbConnection, id: Uuid) -> QueryResult<bool> {
    diesel::select(diesel::dsl::exists(
        person_affiliations::table.filter(person_affiliations::organization_id.eq(DbUuid(id))),
    ))
    .get_result(conn)
}
