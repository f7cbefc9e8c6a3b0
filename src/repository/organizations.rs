//! Organisations: sostenedores, DEPROV, Secretarías, ministries.

use diesel::prelude::*;
use uuid::Uuid;

use crate::audit::snapshot;
use crate::auth::TerritoryScope;
use crate::db::{DbConnection, DbTime, DbUuid, Tx, on_backend};
use crate::domain::text::{escape_like, fold};
use crate::pagination::PageRequest;
use crate::repository::by_ids::ByIds;
use crate::repository::changes::{Change, Operation};
use crate::repository::scoped;
use crate::repository::{NameCursor, UpdateOutcome};
use crate::schema::organizations;

pub const RESOURCE: &str = "organization";

#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable, serde::Serialize)]
#[diesel(table_name = organizations)]
pub struct OrganizationRow {
    #[serde(skip)]
    pub id: DbUuid,
    pub kind: String,
    pub name: String,
    #[serde(skip)]
    pub search_name: String,
    pub country: String,
    pub territory_id: DbUuid,
    pub territory_path: String,
    pub rut: Option<String>,
    pub etc_code: Option<String>,
    pub secretaria_level: Option<String>,
    pub version: i64,
    #[serde(skip)]
    pub created_at: DbTime,
    #[serde(skip)]
    pub updated_at: DbTime,
}

/// The writable content of an organisation, validated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrganizationData {
    pub kind: String,
    pub name: String,
    pub country: String,
    pub territory_id: Uuid,
    pub territory_path: String,
    pub rut: Option<String>,
    pub etc_code: Option<String>,
    pub secretaria_level: Option<String>,
}

#[derive(Insertable, AsChangeset)]
#[diesel(table_name = organizations, treat_none_as_null = true)]
struct Values<'a> {
    kind: &'a str,
    name: &'a str,
    search_name: String,
    country: &'a str,
    territory_id: DbUuid,
    territory_path: &'a str,
    rut: Option<&'a str>,
    etc_code: Option<&'a str>,
    secretaria_level: Option<&'a str>,
}

impl<'a> From<&'a OrganizationData> for Values<'a> {
    fn from(data: &'a OrganizationData) -> Self {
        Values {
            kind: &data.kind,
            name: &data.name,
            search_name: fold(&data.name),
            country: &data.country,
            territory_id: DbUuid(data.territory_id),
            territory_path: &data.territory_path,
            rut: data.rut.as_deref(),
            etc_code: data.etc_code.as_deref(),
            secretaria_level: data.secretaria_level.as_deref(),
        }
    }
}

impl OrganizationRow {
    fn new(
        id: Uuid,
        data: &OrganizationData,
        version: i64,
        created_at: DbTime,
        now: DbTime,
    ) -> Self {
        OrganizationRow {
            id: DbUuid(id),
            kind: data.kind.clone(),
            name: data.name.clone(),
            search_name: fold(&data.name),
            country: data.country.clone(),
            territory_id: DbUuid(data.territory_id),
            territory_path: data.territory_path.clone(),
            rut: data.rut.clone(),
            etc_code: data.etc_code.clone(),
            secretaria_level: data.secretaria_level.clone(),
            version,
            created_at,
            updated_at: now,
        }
    }
}

pub fn insert(tx: &mut Tx<'_>, id: Uuid, data: &OrganizationData) -> QueryResult<OrganizationRow> {
    let now = DbTime::now();
    diesel::insert_into(organizations::table)
        .values((
            organizations::id.eq(DbUuid(id)),
            Values::from(data),
            organizations::version.eq(1i64),
            organizations::created_at.eq(now),
            organizations::updated_at.eq(now),
        ))
        .execute(tx.conn())?;
    let row = OrganizationRow::new(id, data, 1, now, now);
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

fn find_unscoped(conn: &mut DbConnection, id: Uuid) -> QueryResult<Option<OrganizationRow>> {
    organizations::table
        .select(OrganizationRow::as_select())
        .filter(organizations::id.eq(DbUuid(id)))
        .first(conn)
        .optional()
}

/// Whether the caller's territories hold the organisation.
pub fn in_scope(row: &OrganizationRow, scope: &TerritoryScope) -> bool {
    scope.contains_path(&row.territory_path)
}

/// The organisations with these ids, whoever asks (each caller checks [`in_scope`] on its
/// own): the reads by id that arrive together (`db::coalesce`). One id is an equality on the
/// key, read with `load` (see `schools::find_many`); several ids are one statement ([`ByIds`]
/// on PostgreSQL, prepared once whatever their number).
pub fn find_many(conn: &mut DbConnection, ids: &[Uuid]) -> QueryResult<Vec<OrganizationRow>> {
    match ids {
        [] => Ok(Vec::new()),
        [id] => on_backend!(conn, c => organizations::table
            .select(OrganizationRow::as_select())
            .filter(organizations::id.eq(DbUuid(*id)))
            .load::<OrganizationRow>(c)),
        _ => match conn {
            DbConnection::Pg(c) => {
                ByIds::<_, OrganizationRow>::new(organizations::table, ids).load(c)
            }
            DbConnection::Sqlite(c) => organizations::table
                .select(OrganizationRow::as_select())
                .filter(organizations::id.eq_any(ids.iter().copied().map(DbUuid)))
                .load(c),
        },
    }
}

/// The organisation, if it exists in the scope.
pub fn find(
    conn: &mut DbConnection,
    id: Uuid,
    scope: &TerritoryScope,
) -> QueryResult<Option<OrganizationRow>> {
    organizations::table
        .select(OrganizationRow::as_select())
        .filter(organizations::id.eq(DbUuid(id)))
        .filter(scoped::within(organizations::territory_path, scope))
        .first(conn)
        .optional()
}

/// An organisation a school may refer to: one in the caller's scope, or one whose territory
/// contains the school's (a SLEP or a departmental Secretaría above the caller's comuna).
pub fn find_referable(
    conn: &mut DbConnection,
    id: Uuid,
    scope: &TerritoryScope,
    school_territory_path: &str,
) -> QueryResult<Option<OrganizationRow>> {
    let Some(row) = find_unscoped(conn, id)? else {
        return Ok(None);
    };
    let visible = scope.contains_path(&row.territory_path)
        || school_territory_path.starts_with(row.territory_path.as_str());
    Ok(visible.then_some(row))
}

/// Replaces the content of the organisation at `version`; the version check makes concurrent
/// writers detect each other.
pub fn update(
    tx: &mut Tx<'_>,
    current: &OrganizationRow,
    data: &OrganizationData,
) -> QueryResult<UpdateOutcome<OrganizationRow>> {
    let now = DbTime::now();
    let updated = diesel::update(
        organizations::table
            .filter(organizations::id.eq(current.id))
            .filter(organizations::version.eq(current.version)),
    )
    .set((
        Values::from(data),
        organizations::version.eq(current.version + 1),
        organizations::updated_at.eq(now),
    ))
    .execute(tx.conn())?;
    if updated == 0 {
        return Ok(UpdateOutcome::Concurrent);
    }
    let row = OrganizationRow::new(
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
    Ok(UpdateOutcome::Done(row))
}

pub fn delete(tx: &mut Tx<'_>, current: &OrganizationRow) -> QueryResult<UpdateOutcome<()>> {
    let deleted = diesel::delete(
        organizations::table
            .filter(organizations::id.eq(current.id))
            .filter(organizations::version.eq(current.version)),
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

/// Filters of the organisation list.
#[derive(Debug, Clone, Default)]
pub struct OrganizationFilter {
    pub kinds: Vec<String>,
    pub country: Option<String>,
    /// Only organisations in this subtree (a path).
    pub territory_path: Option<String>,
    pub name_contains: Option<String>,
    pub page: PageRequest,
}

/// A page of organisations in the scope, by folded name then id.
pub fn list(
    conn: &mut DbConnection,
    filter: &OrganizationFilter,
    scope: &TerritoryScope,
) -> QueryResult<Vec<OrganizationRow>> {
    use organizations::dsl as o;
    let mut query = o::organizations
        .select(OrganizationRow::as_select())
        .filter(scoped::within(o::territory_path, scope))
        .order((o::search_name.asc(), o::id.asc()))
        .limit(filter.page.fetch_limit())
        .into_boxed();
    if !filter.kinds.is_empty() {
        query = query.filter(o::kind.eq_any(filter.kinds.clone()));
    }
    if let Some(country) = &filter.country {
        query = query.filter(o::country.eq(country.clone()));
    }
    if let Some(path) = &filter.territory_path {
        query = query.filter(scoped::within(
            o::territory_path,
            &TerritoryScope::from_paths([path.clone()]),
        ));
    }
    if let Some(text) = &filter.name_contains {
        let pattern = format!("%{}%", escape_like(&fold(text)));
        query = query.filter(o::search_name.like(pattern).escape('\\'));
    }
    if let Some(cursor) = filter.page.after.as_deref().and_then(NameCursor::decode) {
        query = query.filter(
            o::search_name.gt(cursor.name.clone()).or(o::search_name
                .eq(cursor.name)
                .and(o::id.gt(DbUuid(cursor.id)))),
        );
    }
    query.load(conn)
}
