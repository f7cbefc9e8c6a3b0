//! Networks and their dated members.
//!
//! A network is visible to a principal whose territories contain the network's territory or
//! the territory of a school that is or was one of its members (a Secretaría sees the networks
//! of its schools). It can be changed, with its members, only by a principal whose territories
//! contain the network's own territory.

use diesel::prelude::*;
use diesel::sql_types::Bool;
use uuid::Uuid;

use crate::audit::snapshot;
use crate::auth::TerritoryScope;
use crate::db::{DbConnection, DbTime, DbUuid, MultiBackend, Tx};
use crate::domain::text::{escape_like, fold};
use crate::pagination::PageRequest;
use crate::repository::changes::{Change, Operation};
use crate::repository::scoped;
use crate::repository::{NameCursor, UpdateOutcome};
use crate::schema::{network_members, networks, organizations, schools};

pub const RESOURCE: &str = "network";
pub const MEMBER_RESOURCE: &str = "network_member";

#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable, serde::Serialize)]
#[diesel(table_name = networks)]
pub struct NetworkRow {
    #[serde(skip)]
    pub id: DbUuid,
    pub name: String,
    #[serde(skip)]
    pub search_name: String,
    pub kind: String,
    pub country: String,
    pub territory_id: DbUuid,
    pub territory_path: String,
    pub responsible_id: Option<DbUuid>,
    pub founded_year: Option<i32>,
    pub status: String,
    pub status_since: Option<String>,
    pub principles_and_needs: Option<String>,
    pub objective: Option<String>,
    pub idea_fuerza: Option<String>,
    pub mobilisation: String,
    pub collaboration: String,
    pub learnings: String,
    pub challenges: String,
    pub work_plans: String,
    pub version: i64,
    #[serde(skip)]
    pub created_at: DbTime,
    #[serde(skip)]
    pub updated_at: DbTime,
}

/// The writable content of a network, validated; the lists and work plans as JSON text.
#[derive(Debug, Clone, PartialEq, Eq, Insertable, AsChangeset)]
#[diesel(table_name = networks, treat_none_as_null = true)]
pub struct NetworkData {
    pub name: String,
    pub search_name: String,
    pub kind: String,
    pub country: String,
    pub territory_id: DbUuid,
    pub territory_path: String,
    pub responsible_id: Option<DbUuid>,
    pub founded_year: Option<i32>,
    pub status: String,
    pub status_since: Option<String>,
    pub principles_and_needs: Option<String>,
    pub objective: Option<String>,
    pub idea_fuerza: Option<String>,
    pub mobilisation: String,
    pub collaboration: String,
    pub learnings: String,
    pub challenges: String,
    pub work_plans: String,
}

impl NetworkRow {
    fn new(id: Uuid, data: &NetworkData, version: i64, created_at: DbTime, now: DbTime) -> Self {
        NetworkRow {
            id: DbUuid(id),
            name: data.name.clone(),
            search_name: data.search_name.clone(),
            kind: data.kind.clone(),
            country: data.country.clone(),
            territory_id: data.territory_id,
            territory_path: data.territory_path.clone(),
            responsible_id: data.responsible_id,
            founded_year: data.founded_year,
            status: data.status.clone(),
            status_since: data.status_since.clone(),
            principles_and_needs: data.principles_and_needs.clone(),
            objective: data.objective.clone(),
            idea_fuerza: data.idea_fuerza.clone(),
            mobilisation: data.mobilisation.clone(),
            collaboration: data.collaboration.clone(),
            learnings: data.learnings.clone(),
            challenges: data.challenges.clone(),
            work_plans: data.work_plans.clone(),
            version,
            created_at,
            updated_at: now,
        }
    }
}

type Visible<'a> = Box<dyn BoxableExpression<networks::table, MultiBackend, SqlType = Bool> + 'a>;

/// The networks the scope sees: in its territories, or with a member school (past or present)
/// in them. The second kind is looked up first, among networks outside the scope only, so
/// that the condition stays short for a principal who sees everything anyway.
fn visible<'a>(conn: &mut DbConnection, scope: &TerritoryScope) -> QueryResult<Visible<'a>> {
    let own: Visible<'a> = scoped::within(networks::territory_path, scope);
    if scope.holds_every_country() {
        // Every network lies in the scope's own territories: nothing to look up.
        return Ok(own);
    }
    let via_schools: Vec<DbUuid> = network_members::table
        .inner_join(schools::table)
        .inner_join(networks::table)
        .select(network_members::network_id)
        .filter(scoped::within(schools::territory_path, scope))
        .filter(diesel::dsl::not(scoped::within(
            networks::territory_path,
            scope,
        )))
        .distinct()
        .load(conn)?;
    Ok(if via_schools.is_empty() {
        own
    } else {
        Box::new(own.or(networks::id.eq_any(via_schools)))
    })
}

/// The ids of the networks the scope sees, optionally only those whose territory is in the
/// subtree `within` (a path).
pub fn visible_ids(
    conn: &mut DbConnection,
    scope: &TerritoryScope,
    within: Option<&str>,
) -> QueryResult<Vec<DbUuid>> {
    let mut query = networks::table
        .select(networks::id)
        .filter(visible(conn, scope)?)
        .into_boxed();
    if let Some(path) = within {
        query = query.filter(scoped::within(
            networks::territory_path,
            &TerritoryScope::from_paths([path.to_owned()]),
        ));
    }
    query.load(conn)
}

pub fn insert(tx: &mut Tx<'_>, id: Uuid, data: &NetworkData) -> QueryResult<NetworkRow> {
    let now = DbTime::now();
    diesel::insert_into(networks::table)
        .values((
            networks::id.eq(DbUuid(id)),
            data,
            networks::version.eq(1i64),
            networks::created_at.eq(now),
            networks::updated_at.eq(now),
        ))
        .execute(tx.conn())?;
    let row = NetworkRow::new(id, data, 1, now, now);
    tx.record_diff(
        Change {
            resource: RESOURCE,
            id,
            operation: Operation::Created,
            territory_path: data.territory_path.clone(),
            previous_territory_path: None,
        },
        None,
        Some(&snapshot(&row)),
    );
    Ok(row)
}

/// The network, if the scope sees it.
pub fn find(
    conn: &mut DbConnection,
    id: Uuid,
    scope: &TerritoryScope,
) -> QueryResult<Option<NetworkRow>> {
    // The row, then whether the scope sees it: through its territory (one statement), else
    // through a member school in the scope (a second, on this network's members only).
    // Asking `visible` instead read every network's members on every call.
    let Some(row) = find_unscoped(conn, id)? else {
        return Ok(None);
    };
    if scope.contains_path(&row.territory_path) {
        return Ok(Some(row));
    }
    let member_schools: Vec<String> = network_members::table
        .inner_join(schools::table)
        .filter(network_members::network_id.eq(DbUuid(id)))
        .select(schools::territory_path)
        .load(conn)?;
    Ok(member_schools
        .iter()
        .any(|path| scope.contains_path(path))
        .then_some(row))
}

/// The network whatever the scope: for loading demo data, which is not a principal's.
pub fn find_unscoped(conn: &mut DbConnection, id: Uuid) -> QueryResult<Option<NetworkRow>> {
    networks::table
        .select(NetworkRow::as_select())
        .filter(networks::id.eq(DbUuid(id)))
        .first(conn)
        .optional()
}

pub fn update(
    tx: &mut Tx<'_>,
    current: &NetworkRow,
    data: &NetworkData,
) -> QueryResult<UpdateOutcome<NetworkRow>> {
    let now = DbTime::now();
    let updated = diesel::update(
        networks::table
            .filter(networks::id.eq(current.id))
            .filter(networks::version.eq(current.version)),
    )
    .set((
        data,
        networks::version.eq(current.version + 1),
        networks::updated_at.eq(now),
    ))
    .execute(tx.conn())?;
    if updated == 0 {
        return Ok(UpdateOutcome::Concurrent);
    }
    let row = NetworkRow::new(
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
        Some(&snapshot(&row)),
    );
    // The network's improvement cycles carry its territory: they follow it.
    crate::repository::improvement_cycles::follow_owner(
        tx,
        crate::repository::improvement_cycles::Owner::Network(current.id.0),
        &current.territory_path,
        &data.territory_path,
    )?;
    Ok(UpdateOutcome::Done(row))
}

/// Deletes the network and its memberships, each deletion in the change journal.
pub fn delete(tx: &mut Tx<'_>, current: &NetworkRow) -> QueryResult<UpdateOutcome<()>> {
    let members: Vec<DbUuid> = network_members::table
        .filter(network_members::network_id.eq(current.id))
        .select(network_members::id)
        .load(tx.conn())?;
    diesel::delete(network_members::table.filter(network_members::network_id.eq(current.id)))
        .execute(tx.conn())?;
    let deleted = diesel::delete(
        networks::table
            .filter(networks::id.eq(current.id))
            .filter(networks::version.eq(current.version)),
    )
    .execute(tx.conn())?;
    if deleted == 0 {
        return Ok(UpdateOutcome::Concurrent);
    }
    for member in members {
        tx.record(Change {
            resource: MEMBER_RESOURCE,
            id: member.0,
            operation: Operation::Deleted,
            territory_path: current.territory_path.clone(),
            previous_territory_path: None,
        });
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

/// Filters of the network list.
#[derive(Debug, Clone, Default)]
pub struct NetworkFilter {
    pub kinds: Vec<String>,
    pub statuses: Vec<String>,
    pub country: Option<String>,
    /// Only networks whose own territory is in this subtree (a path).
    pub territory_path: Option<String>,
    pub name_contains: Option<String>,
    pub page: PageRequest,
}

/// A page of the networks the scope sees, by folded name then id.
pub fn list(
    conn: &mut DbConnection,
    filter: &NetworkFilter,
    scope: &TerritoryScope,
) -> QueryResult<Vec<NetworkRow>> {
    use networks::dsl as n;
    let mut query = n::networks
        .select(NetworkRow::as_select())
        .filter(visible(conn, scope)?)
        .order((n::search_name.asc(), n::id.asc()))
        .limit(filter.page.fetch_limit())
        .into_boxed();
    if !filter.kinds.is_empty() {
        query = query.filter(n::kind.eq_any(filter.kinds.clone()));
    }
    if !filter.statuses.is_empty() {
        query = query.filter(n::status.eq_any(filter.statuses.clone()));
    }
    if let Some(country) = &filter.country {
        query = query.filter(n::country.eq(country.clone()));
    }
    if let Some(path) = &filter.territory_path {
        query = query.filter(scoped::within(
            n::territory_path,
            &TerritoryScope::from_paths([path.clone()]),
        ));
    }
    if let Some(text) = &filter.name_contains {
        let pattern = format!("%{}%", escape_like(&fold(text)));
        query = query.filter(n::search_name.like(pattern).escape('\\'));
    }
    if let Some(cursor) = filter.page.after.as_deref().and_then(NameCursor::decode) {
        query = query.filter(
            n::search_name.gt(cursor.name.clone()).or(n::search_name
                .eq(cursor.name)
                .and(n::id.gt(DbUuid(cursor.id)))),
        );
    }
    query.load(conn)
}

/// Whether any network names the organisation as responsible or as a member.
pub fn refers_to_organization(conn: &mut DbConnection, id: Uuid) -> QueryResult<bool> {
    let responsible: bool = diesel::select(diesel::dsl::exists(
        networks::table.filter(networks::responsible_id.eq(DbUuid(id))),
    ))
    .get_result(conn)?;
    if responsible {
        return Ok(true);
    }
    diesel::select(diesel::dsl::exists(
        network_members::table.filter(network_members::organization_id.eq(DbUuid(id))),
    ))
    .get_result(conn)
}

/// Whether the school is or was a member of any network.
pub fn refers_to_school(conn: &mut DbConnection, id: Uuid) -> QueryResult<bool> {
    diesel::select(diesel::dsl::exists(
        network_members::table.filter(network_members::school_id.eq(DbUuid(id))),
    ))
    .get_result(conn)
}

// Members.

#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable, serde::Serialize)]
#[diesel(table_name = network_members)]
pub struct MemberRow {
    #[serde(skip)]
    pub id: DbUuid,
    pub network_id: DbUuid,
    pub school_id: Option<DbUuid>,
    pub organization_id: Option<DbUuid>,
    pub person_id: Option<DbUuid>,
    pub role: String,
    pub joined_on: Option<String>,
    pub left_on: Option<String>,
    pub version: i64,
    #[serde(skip)]
    pub created_at: DbTime,
    #[serde(skip)]
    pub updated_at: DbTime,
}

/// The writable content of a membership, validated. Dates are `YYYY-MM-DD`.
#[derive(Debug, Clone, PartialEq, Eq, Insertable, AsChangeset)]
#[diesel(table_name = network_members, treat_none_as_null = true)]
pub struct MemberData {
    pub school_id: Option<DbUuid>,
    pub organization_id: Option<DbUuid>,
    pub person_id: Option<DbUuid>,
    pub role: String,
    pub joined_on: Option<String>,
    pub left_on: Option<String>,
}

impl MemberRow {
    fn new(
        id: Uuid,
        network_id: Uuid,
        data: &MemberData,
        version: i64,
        created_at: DbTime,
        now: DbTime,
    ) -> Self {
        MemberRow {
            id: DbUuid(id),
            network_id: DbUuid(network_id),
            school_id: data.school_id,
            organization_id: data.organization_id,
            person_id: data.person_id,
            role: data.role.clone(),
            joined_on: data.joined_on.clone(),
            left_on: data.left_on.clone(),
            version,
            created_at,
            updated_at: now,
        }
    }
}

pub fn insert_member(
    tx: &mut Tx<'_>,
    id: Uuid,
    network: &NetworkRow,
    data: &MemberData,
) -> QueryResult<MemberRow> {
    let now = DbTime::now();
    diesel::insert_into(network_members::table)
        .values((
            network_members::id.eq(DbUuid(id)),
            network_members::network_id.eq(network.id),
            data,
            network_members::version.eq(1i64),
            network_members::created_at.eq(now),
            network_members::updated_at.eq(now),
        ))
        .execute(tx.conn())?;
    let row = MemberRow::new(id, network.id.0, data, 1, now, now);
    tx.record_diff(
        Change {
            resource: MEMBER_RESOURCE,
            id,
            operation: Operation::Created,
            territory_path: network.territory_path.clone(),
            previous_territory_path: None,
        },
        None,
        Some(&snapshot(&row)),
    );
    Ok(row)
}

pub fn find_member(
    conn: &mut DbConnection,
    network_id: Uuid,
    id: Uuid,
) -> QueryResult<Option<MemberRow>> {
    network_members::table
        .select(MemberRow::as_select())
        .filter(network_members::network_id.eq(DbUuid(network_id)))
        .filter(network_members::id.eq(DbUuid(id)))
        .first(conn)
        .optional()
}

pub fn update_member(
    tx: &mut Tx<'_>,
    network: &NetworkRow,
    current: &MemberRow,
    data: &MemberData,
) -> QueryResult<UpdateOutcome<MemberRow>> {
    let now = DbTime::now();
    let updated = diesel::update(
        network_members::table
            .filter(network_members::id.eq(current.id))
            .filter(network_members::version.eq(current.version)),
    )
    .set((
        data,
        network_members::version.eq(current.version + 1),
        network_members::updated_at.eq(now),
    ))
    .execute(tx.conn())?;
    if updated == 0 {
        return Ok(UpdateOutcome::Concurrent);
    }
    let row = MemberRow::new(
        current.id.0,
        network.id.0,
        data,
        current.version + 1,
        current.created_at,
        now,
    );
    tx.record_diff(
        Change {
            resource: MEMBER_RESOURCE,
            id: current.id.0,
            operation: Operation::Updated,
            territory_path: network.territory_path.clone(),
            previous_territory_path: None,
        },
        Some(&snapshot(current)),
        Some(&snapshot(&row)),
    );
    Ok(UpdateOutcome::Done(row))
}

pub fn delete_member(
    tx: &mut Tx<'_>,
    network: &NetworkRow,
    current: &MemberRow,
) -> QueryResult<UpdateOutcome<()>> {
    let deleted = diesel::delete(
        network_members::table
            .filter(network_members::id.eq(current.id))
            .filter(network_members::version.eq(current.version)),
    )
    .execute(tx.conn())?;
    if deleted == 0 {
        return Ok(UpdateOutcome::Concurrent);
    }
    tx.record_diff(
        Change {
            resource: MEMBER_RESOURCE,
            id: current.id.0,
            operation: Operation::Deleted,
            territory_path: network.territory_path.clone(),
            previous_territory_path: None,
        },
        Some(&snapshot(current)),
        None,
    );
    Ok(UpdateOutcome::Done(()))
}

/// The memberships of the same school or organisation in the same role in the network, other
/// than `except`: what a new period must not overlap.
pub fn same_member_periods(
    conn: &mut DbConnection,
    network_id: Uuid,
    data: &MemberData,
    except: Option<Uuid>,
) -> QueryResult<Vec<MemberRow>> {
    let mut query = network_members::table
        .select(MemberRow::as_select())
        .filter(network_members::network_id.eq(DbUuid(network_id)))
        .filter(network_members::role.eq(data.role.clone()))
        .into_boxed();
    query = match (data.school_id, data.organization_id, data.person_id) {
        (Some(school), _, _) => query.filter(network_members::school_id.eq(school)),
        (None, Some(organization), _) => {
            query.filter(network_members::organization_id.eq(organization))
        }
        (None, None, Some(person)) => query.filter(network_members::person_id.eq(person)),
        (None, None, None) => return Ok(Vec::new()),
    };
    if let Some(except) = except {
        query = query.filter(network_members::id.ne(DbUuid(except)));
    }
    query.load(conn)
}

/// Filters of a network's member list.
#[derive(Debug, Clone, Default)]
pub struct MemberFilter {
    /// Only memberships current on this date (`YYYY-MM-DD`): joined on or before it, and not
    /// left on or before it.
    pub on: Option<String>,
    pub roles: Vec<String>,
    /// `school`, `organization` or `person`.
    pub member_kind: Option<String>,
    pub page: PageRequest,
}

/// A page of the network's memberships, in the order they were recorded (ids are UUIDv7).
pub fn list_members(
    conn: &mut DbConnection,
    network_id: Uuid,
    filter: &MemberFilter,
) -> QueryResult<Vec<MemberRow>> {
    use network_members::dsl as m;
    let mut query = m::network_members
        .select(MemberRow::as_select())
        .filter(m::network_id.eq(DbUuid(network_id)))
        .order(m::id.asc())
        .limit(filter.page.fetch_limit())
        .into_boxed();
    if let Some(on) = &filter.on {
        query = query
            .filter(m::joined_on.is_null().or(m::joined_on.le(on.clone())))
            .filter(m::left_on.is_null().or(m::left_on.gt(on.clone())));
    }
    if !filter.roles.is_empty() {
        query = query.filter(m::role.eq_any(filter.roles.clone()));
    }
    match filter.member_kind.as_deref() {
        Some("school") => query = query.filter(m::school_id.is_not_null()),
        Some("organization") => query = query.filter(m::organization_id.is_not_null()),
        Some("person") => query = query.filter(m::person_id.is_not_null()),
        _ => {}
    }
    if let Some(after) = filter.page.after.as_deref().and_then(NameCursor::decode) {
        query = query.filter(m::id.gt(DbUuid(after.id)));
    }
    query.load(conn)
}

/// The names of the schools and organisations among `members`, by id, and of the people
/// when `people` (the scope of a caller allowed to read people) sees them.
pub fn member_names(
    conn: &mut DbConnection,
    members: &[MemberRow],
    people: Option<&TerritoryScope>,
) -> QueryResult<std::collections::HashMap<Uuid, String>> {
    let school_ids: Vec<DbUuid> = members.iter().filter_map(|m| m.school_id).collect();
    let organization_ids: Vec<DbUuid> = members.iter().filter_map(|m| m.organization_id).collect();
    let mut names = std::collections::HashMap::new();
    if !school_ids.is_empty() {
        let rows: Vec<(DbUuid, String)> = schools::table
            .filter(schools::id.eq_any(school_ids))
            .select((schools::id, schools::name))
            .load(conn)?;
        names.extend(rows.into_iter().map(|(id, name)| (id.0, name)));
    }
    if !organization_ids.is_empty() {
        let rows: Vec<(DbUuid, String)> = organizations::table
            .filter(organizations::id.eq_any(organization_ids))
            .select((organizations::id, organizations::name))
            .load(conn)?;
        names.extend(rows.into_iter().map(|(id, name)| (id.0, name)));
    }
    if let Some(scope) = people {
        let person_ids: Vec<DbUuid> = members.iter().filter_map(|m| m.person_id).collect();
        names.extend(crate::repository::people::names_visible(
            conn, person_ids, scope,
        )?);
    }
    Ok(names)
}

/// Whom a membership query is about.
#[derive(Debug, Clone, Copy)]
pub enum MemberRef {
    School(Uuid),
    Person(Uuid),
}

/// The memberships of a school or a person, current on `on` when given, with their networks,
/// by network name. The caller must see the school (every network it belongs to is then
/// visible through it, see [`visible`]) or, for a person, read people where the person is:
/// their memberships are their personal data.
pub fn memberships_of(
    conn: &mut DbConnection,
    member: MemberRef,
    on: Option<&str>,
) -> QueryResult<Vec<(MemberRow, NetworkRow)>> {
    use network_members::dsl as m;
    let mut query = network_members::table
        .inner_join(networks::table)
        .select((MemberRow::as_select(), NetworkRow::as_select()))
        .order((networks::search_name.asc(), networks::id.asc(), m::id.asc()))
        .into_boxed();
    query = match member {
        MemberRef::School(id) => query.filter(m::school_id.eq(DbUuid(id))),
        MemberRef::Person(id) => query.filter(m::person_id.eq(DbUuid(id))),
    };
    if let Some(on) = on {
        query = query
            .filter(m::joined_on.is_null().or(m::joined_on.le(on.to_owned())))
            .filter(m::left_on.is_null().or(m::left_on.gt(on.to_owned())));
    }
    query.load(conn)
}
