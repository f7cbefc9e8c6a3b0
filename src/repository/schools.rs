//! Schools (establecimientos educacionales).

use diesel::prelude::*;
use uuid::Uuid;

use crate::audit::snapshot;
use crate::auth::TerritoryScope;
use crate::db::{DbConnection, DbTime, DbUuid, Tx, on_backend};
use crate::domain::territory::region_path;
use crate::domain::text::{escape_like, fold};
use crate::pagination::PageRequest;
use crate::repository::by_ids::ByIds;
use crate::repository::changes::{Change, Operation};
use crate::repository::scoped;
use crate::repository::{NameCursor, UpdateOutcome, improvement_cycles, mentoring_visits};
use crate::schema::schools;

pub const RESOURCE: &str = "school";

/// Serialised as the audit log's snapshot: derived and bookkeeping columns left out.
#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable, serde::Serialize)]
#[diesel(table_name = schools)]
pub struct SchoolRow {
    #[serde(skip)]
    pub id: DbUuid,
    pub country: String,
    pub name: String,
    #[serde(skip)]
    pub search_name: String,
    pub territory_id: DbUuid,
    pub territory_path: String,
    pub rural: Option<bool>,
    pub status: Option<String>,
    pub rbd: Option<i32>,
    pub rbd_dv: Option<String>,
    pub dependency: Option<String>,
    pub levels: String,
    pub sostenedor_id: Option<DbUuid>,
    pub dane_code: Option<String>,
    pub sector: Option<String>,
    pub secretaria_id: Option<DbUuid>,
    pub sedes: String,
    pub version: i64,
    #[serde(skip)]
    pub created_at: DbTime,
    #[serde(skip)]
    pub updated_at: DbTime,
}

impl SchoolRow {
    /// The teaching levels stored as `,a,b,`.
    pub fn level_names(&self) -> Vec<&str> {
        self.levels.split(',').filter(|l| !l.is_empty()).collect()
    }
}

/// The writable content of a school, validated.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SchoolData {
    pub country: String,
    pub name: String,
    pub territory_id: Uuid,
    pub territory_path: String,
    pub rural: Option<bool>,
    pub status: Option<String>,
    pub rbd: Option<i32>,
    pub rbd_dv: Option<String>,
    pub dependency: Option<String>,
    pub levels: Vec<String>,
    pub sostenedor_id: Option<Uuid>,
    pub dane_code: Option<String>,
    pub sector: Option<String>,
    pub secretaria_id: Option<Uuid>,
    /// The sedes as a JSON array.
    pub sedes: String,
}

/// Levels as stored: `,a,b,` so that `LIKE '%,a,%'` finds one; empty for none.
pub fn encode_levels(levels: &[String]) -> String {
    if levels.is_empty() {
        String::new()
    } else {
        format!(",{},", levels.join(","))
    }
}

#[derive(Insertable, AsChangeset)]
#[diesel(table_name = schools, treat_none_as_null = true)]
struct Values<'a> {
    country: &'a str,
    name: &'a str,
    search_name: String,
    territory_id: DbUuid,
    territory_path: &'a str,
    region_path: &'a str,
    rural: Option<bool>,
    status: Option<&'a str>,
    rbd: Option<i32>,
    rbd_dv: Option<&'a str>,
    dependency: Option<&'a str>,
    levels: String,
    sostenedor_id: Option<DbUuid>,
    dane_code: Option<&'a str>,
    sector: Option<&'a str>,
    secretaria_id: Option<DbUuid>,
    sedes: &'a str,
}

impl<'a> From<&'a SchoolData> for Values<'a> {
    fn from(data: &'a SchoolData) -> Self {
        Values {
            country: &data.country,
            name: &data.name,
            search_name: fold(&data.name),
            territory_id: DbUuid(data.territory_id),
            territory_path: &data.territory_path,
            region_path: region_path(&data.territory_path),
            rural: data.rural,
            status: data.status.as_deref(),
            rbd: data.rbd,
            rbd_dv: data.rbd_dv.as_deref(),
            dependency: data.dependency.as_deref(),
            levels: encode_levels(&data.levels),
            sostenedor_id: data.sostenedor_id.map(DbUuid),
            dane_code: data.dane_code.as_deref(),
            sector: data.sector.as_deref(),
            secretaria_id: data.secretaria_id.map(DbUuid),
            sedes: &data.sedes,
        }
    }
}

impl SchoolRow {
    fn new(id: Uuid, data: &SchoolData, version: i64, created_at: DbTime, now: DbTime) -> Self {
        SchoolRow {
            id: DbUuid(id),
            country: data.country.clone(),
            name: data.name.clone(),
            search_name: fold(&data.name),
            territory_id: DbUuid(data.territory_id),
            territory_path: data.territory_path.clone(),
            rural: data.rural,
            status: data.status.clone(),
            rbd: data.rbd,
            rbd_dv: data.rbd_dv.clone(),
            dependency: data.dependency.clone(),
            levels: encode_levels(&data.levels),
            sostenedor_id: data.sostenedor_id.map(DbUuid),
            dane_code: data.dane_code.clone(),
            sector: data.sector.clone(),
            secretaria_id: data.secretaria_id.map(DbUuid),
            sedes: data.sedes.clone(),
            version,
            created_at,
            updated_at: now,
        }
    }
}

pub fn insert(tx: &mut Tx<'_>, id: Uuid, data: &SchoolData) -> QueryResult<SchoolRow> {
    let now = DbTime::now();
    diesel::insert_into(schools::table)
        .values((
            schools::id.eq(DbUuid(id)),
            Values::from(data),
            schools::version.eq(1i64),
            schools::created_at.eq(now),
            schools::updated_at.eq(now),
        ))
        .execute(tx.conn())?;
    let row = SchoolRow::new(id, data, 1, now, now);
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

/// A school by id, if it lies in the scope. The scope is checked on the row rather than in
/// SQL: the statement is then the same for every caller, and the connection keeps it prepared
/// (a boxed scope condition is planned again at every call).
pub fn find(
    conn: &mut DbConnection,
    id: Uuid,
    scope: &TerritoryScope,
) -> QueryResult<Option<SchoolRow>> {
    Ok(find_many(conn, &[id])?
        .pop()
        .filter(|row| in_scope(row, scope)))
}

/// Whether the caller's territories hold the school.
pub fn in_scope(row: &SchoolRow, scope: &TerritoryScope) -> bool {
    scope.contains_path(&row.territory_path)
}

/// The schools with these ids, whoever asks (each caller checks [`in_scope`] on its own): the
/// reads by id that arrive together (`db::coalesce`). One id is an equality on the key, read
/// with `load` rather than `first`: the `LIMIT ?` of `first` made SQLite compile the statement
/// again at every call (docs/PERFORMANCE.md, *Seventh round*). Several ids are one statement
/// ([`ByIds`] on PostgreSQL, prepared once whatever their number).
pub fn find_many(conn: &mut DbConnection, ids: &[Uuid]) -> QueryResult<Vec<SchoolRow>> {
    match ids {
        [] => Ok(Vec::new()),
        [id] => on_backend!(conn, c => schools::table
            .select(SchoolRow::as_select())
            .filter(schools::id.eq(DbUuid(*id)))
            .load::<SchoolRow>(c)),
        _ => match conn {
            DbConnection::Pg(c) => ByIds::<_, SchoolRow>::new(schools::table, ids).load(c),
            DbConnection::Sqlite(c) => schools::table
                .select(SchoolRow::as_select())
                .filter(schools::id.eq_any(ids.iter().copied().map(DbUuid)))
                .load(c),
        },
    }
}

/// How `GET /schools/by-code/{code}` names a school.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OfficialCode {
    Rbd(i32),
    Dane(String),
}

pub fn find_by_code(
    conn: &mut DbConnection,
    code: &OfficialCode,
    scope: &TerritoryScope,
) -> QueryResult<Option<SchoolRow>> {
    let query = schools::table
        .select(SchoolRow::as_select())
        .filter(scoped::within(schools::territory_path, scope))
        .into_boxed();
    match code {
        OfficialCode::Rbd(rbd) => query.filter(schools::rbd.eq(*rbd)),
        OfficialCode::Dane(dane) => query.filter(schools::dane_code.eq(dane.clone())),
    }
    .first(conn)
    .optional()
}

pub fn update(
    tx: &mut Tx<'_>,
    current: &SchoolRow,
    data: &SchoolData,
) -> QueryResult<UpdateOutcome<SchoolRow>> {
    let now = DbTime::now();
    let updated = diesel::update(
        schools::table
            .filter(schools::id.eq(current.id))
            .filter(schools::version.eq(current.version)),
    )
    .set((
        Values::from(data),
        schools::version.eq(current.version + 1),
        schools::updated_at.eq(now),
    ))
    .execute(tx.conn())?;
    if updated == 0 {
        return Ok(UpdateOutcome::Concurrent);
    }
    let row = SchoolRow::new(
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
    // What carries the school's territory follows it.
    improvement_cycles::follow_owner(
        tx,
        improvement_cycles::Owner::School(current.id.0),
        &current.territory_path,
        &data.territory_path,
    )?;
    mentoring_visits::follow_school(
        tx,
        current.id.0,
        &current.territory_path,
        &data.territory_path,
    )?;
    Ok(UpdateOutcome::Done(row))
}

pub fn delete(tx: &mut Tx<'_>, current: &SchoolRow) -> QueryResult<UpdateOutcome<()>> {
    let deleted = diesel::delete(
        schools::table
            .filter(schools::id.eq(current.id))
            .filter(schools::version.eq(current.version)),
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

/// Filters of the school list; all present ones must hold.
#[derive(Debug, Clone, Default)]
pub struct SchoolFilter {
    pub country: Option<String>,
    /// Only schools in this subtree (a path).
    pub territory_path: Option<String>,
    pub dependencies: Vec<String>,
    pub level: Option<String>,
    pub rural: Option<bool>,
    pub statuses: Vec<String>,
    pub sector: Option<String>,
    pub sostenedor_id: Option<Uuid>,
    pub secretaria_id: Option<Uuid>,
    pub name_contains: Option<String>,
    pub page: PageRequest,
}

/// A page of schools in the scope, by folded name then id, in one statement.
pub fn list(
    conn: &mut DbConnection,
    filter: &SchoolFilter,
    scope: &TerritoryScope,
) -> QueryResult<Vec<SchoolRow>> {
    use schools::dsl as s;
    // On the backend's connection: the page's SQL is written once, not three times.
    on_backend!(conn, c => {
        let mut query = s::schools
            .select(SchoolRow::as_select())
            .filter(scoped::within(s::territory_path, scope))
            .order((s::search_name.asc(), s::id.asc()))
            .limit(filter.page.fetch_limit())
            .into_boxed();
        if let Some(country) = &filter.country {
            query = query.filter(s::country.eq(country.clone()));
        }
        if let Some(path) = &filter.territory_path {
            // A región's schools (a path of two levels, `/CL/CL-13/`) are one ordered range of
            // `schools_region_idx`, or of `schools_region_dependency_idx` for one dependency.
            query = if path.matches('/').count() == 3 {
                query.filter(s::region_path.eq(path.clone()))
            } else {
                query.filter(scoped::within(
                    s::territory_path,
                    &TerritoryScope::from_paths([path.clone()]),
                ))
            };
        }
        // One value is an equality rather than `= ANY (…)`, which the planner cannot walk an
        // index in order with.
        match filter.dependencies.as_slice() {
            [] => {}
            [one] => query = query.filter(s::dependency.eq(one.clone())),
            many => query = query.filter(s::dependency.eq_any(many.to_vec())),
        }
        if let Some(level) = &filter.level {
            query = query.filter(
                s::levels
                    .like(format!("%,{},%", escape_like(level)))
                    .escape('\\'),
            );
        }
        if let Some(rural) = filter.rural {
            query = query.filter(s::rural.eq(rural));
        }
        match filter.statuses.as_slice() {
            [] => {}
            [one] => query = query.filter(s::status.eq(one.clone())),
            many => query = query.filter(s::status.eq_any(many.to_vec())),
        }
        if let Some(sector) = &filter.sector {
            query = query.filter(s::sector.eq(sector.clone()));
        }
        if let Some(id) = filter.sostenedor_id {
            query = query.filter(s::sostenedor_id.eq(DbUuid(id)));
        }
        if let Some(id) = filter.secretaria_id {
            query = query.filter(s::secretaria_id.eq(DbUuid(id)));
        }
        if let Some(text) = &filter.name_contains {
            let pattern = format!("%{}%", escape_like(&fold(text)));
            query = query.filter(s::search_name.like(pattern).escape('\\'));
        }
        if let Some(cursor) = filter.page.after.as_deref().and_then(NameCursor::decode) {
            query = query.filter(
                s::search_name.gt(cursor.name.clone()).or(s::search_name
                    .eq(cursor.name)
                    .and(s::id.gt(DbUuid(cursor.id)))),
            );
        }
        query.load(c)
    })
}

/// Whether any school refers to this organisation (as sostenedor or Secretaría).
pub fn refers_to_organization(conn: &mut DbConnection, id: Uuid) -> QueryResult<bool> {
    diesel::select(diesel::dsl::exists(
        schools::table.filter(
            schools::sostenedor_id
                .eq(DbUuid(id))
                .or(schools::secretaria_id.eq(DbUuid(id))),
        ),
    ))
    .get_result(conn)
}
