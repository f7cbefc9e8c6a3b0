//! Network sessions with their attendance, head counts and agreements, and the yearly
//! activity summary of a network.
//!
//! A session is visible wherever its network is (see `repository::networks`).

use std::collections::HashMap;

use diesel::prelude::*;
use uuid::Uuid;

use crate::audit::snapshot;
use crate::auth::TerritoryScope;
use crate::db::{DbConnection, DbTime, DbUuid, Tx};
use crate::pagination::PageRequest;
use crate::repository::changes::{Change, Operation};
use crate::repository::networks::{self, NetworkRow};
use crate::repository::{NameCursor, UpdateOutcome};
use crate::schema::{
    network_members, session_agreements, session_attendance, session_participant_counts, sessions,
};

pub const RESOURCE: &str = "session";

#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable, serde::Serialize)]
#[diesel(table_name = sessions)]
pub struct SessionRow {
    #[serde(skip)]
    pub id: DbUuid,
    pub network_id: DbUuid,
    pub title: String,
    pub date: Option<String>,
    pub start_time: Option<String>,
    pub duration_minutes: Option<i32>,
    pub modality: Option<String>,
    pub status: String,
    pub host_school_id: Option<DbUuid>,
    pub place: Option<String>,
    pub work_plan_objective: Option<String>,
    pub agenda: String,
    pub evidence: String,
    pub reflection: Option<String>,
    pub notes: Option<String>,
    pub sort_key: String,
    pub version: i64,
    #[serde(skip)]
    pub created_at: DbTime,
    #[serde(skip)]
    pub updated_at: DbTime,
}

/// The writable content of a session, validated; agenda and evidence as JSON text.
#[derive(Debug, Clone, PartialEq, Eq, Insertable, AsChangeset)]
#[diesel(table_name = sessions, treat_none_as_null = true)]
pub struct SessionData {
    pub title: String,
    pub date: Option<String>,
    pub start_time: Option<String>,
    pub duration_minutes: Option<i32>,
    pub modality: Option<String>,
    pub status: String,
    pub host_school_id: Option<DbUuid>,
    pub place: Option<String>,
    pub work_plan_objective: Option<String>,
    pub agenda: String,
    pub evidence: String,
    pub reflection: Option<String>,
    pub notes: Option<String>,
    pub sort_key: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable, Insertable)]
#[diesel(table_name = session_attendance)]
pub struct AttendanceRow {
    pub session_id: DbUuid,
    pub person_id: DbUuid,
    pub status: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable, Insertable)]
#[diesel(table_name = session_participant_counts)]
pub struct CountRow {
    pub session_id: DbUuid,
    pub ordinal: i32,
    pub role: String,
    pub unit: String,
    pub count: i32,
    pub invited: Option<i32>,
    pub label: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable, Insertable)]
#[diesel(table_name = session_agreements)]
pub struct AgreementRow {
    pub id: DbUuid,
    pub session_id: DbUuid,
    pub ordinal: i32,
    pub text: String,
    pub owner_person_id: Option<DbUuid>,
    pub owner_school_id: Option<DbUuid>,
    pub due_on: Option<String>,
    pub status: String,
    pub followed_up_in: Option<DbUuid>,
    pub done_on: Option<String>,
}

/// What a session holds besides its own row; `session_id` and `ordinal` are set on writing.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SessionParts {
    pub attendance: Vec<AttendanceRow>,
    pub counts: Vec<CountRow>,
    pub agreements: Vec<AgreementRow>,
}

/// A session with its parts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionRecord {
    pub session: SessionRow,
    pub parts: SessionParts,
}

impl SessionRow {
    fn new(
        id: Uuid,
        network_id: DbUuid,
        data: &SessionData,
        version: i64,
        created_at: DbTime,
        now: DbTime,
    ) -> Self {
        SessionRow {
            id: DbUuid(id),
            network_id,
            title: data.title.clone(),
            date: data.date.clone(),
            start_time: data.start_time.clone(),
            duration_minutes: data.duration_minutes,
            modality: data.modality.clone(),
            status: data.status.clone(),
            host_school_id: data.host_school_id,
            place: data.place.clone(),
            work_plan_objective: data.work_plan_objective.clone(),
            agenda: data.agenda.clone(),
            evidence: data.evidence.clone(),
            reflection: data.reflection.clone(),
            notes: data.notes.clone(),
            sort_key: data.sort_key.clone(),
            version,
            created_at,
            updated_at: now,
        }
    }
}

/// Replaces the session's parts with `parts`, numbered in order.
fn write_parts(tx: &mut Tx<'_>, id: Uuid, parts: &SessionParts) -> QueryResult<SessionParts> {
    let session = DbUuid(id);
    diesel::delete(session_attendance::table.filter(session_attendance::session_id.eq(session)))
        .execute(tx.conn())?;
    diesel::delete(
        session_participant_counts::table
            .filter(session_participant_counts::session_id.eq(session)),
    )
    .execute(tx.conn())?;
    diesel::delete(session_agreements::table.filter(session_agreements::session_id.eq(session)))
        .execute(tx.conn())?;
    let written = SessionParts {
        attendance: parts
            .attendance
            .iter()
            .map(|a| AttendanceRow {
                session_id: session,
                ..a.clone()
            })
            .collect(),
        counts: parts
            .counts
            .iter()
            .zip(0..)
            .map(|(c, ordinal)| CountRow {
                session_id: session,
                ordinal,
                ..c.clone()
            })
            .collect(),
        agreements: parts
            .agreements
            .iter()
            .zip(0..)
            .map(|(a, ordinal)| AgreementRow {
                session_id: session,
                ordinal,
                ..a.clone()
            })
            .collect(),
    };
    // Row by row: a multi-row insert is not available on SQLite through the multi-backend
    // connection, and sessions have few parts.
    for row in &written.attendance {
        diesel::insert_into(session_attendance::table)
            .values(row)
            .execute(tx.conn())?;
    }
    for row in &written.counts {
        diesel::insert_into(session_participant_counts::table)
            .values(row)
            .execute(tx.conn())?;
    }
    for row in &written.agreements {
        diesel::insert_into(session_agreements::table)
            .values(row)
            .execute(tx.conn())?;
    }
    Ok(written)
}

pub fn insert(
    tx: &mut Tx<'_>,
    id: Uuid,
    network: &NetworkRow,
    data: &SessionData,
    parts: &SessionParts,
) -> QueryResult<SessionRecord> {
    let now = DbTime::now();
    diesel::insert_into(sessions::table)
        .values((
            sessions::id.eq(DbUuid(id)),
            sessions::network_id.eq(network.id),
            data,
            sessions::version.eq(1i64),
            sessions::created_at.eq(now),
            sessions::updated_at.eq(now),
        ))
        .execute(tx.conn())?;
    let parts = write_parts(tx, id, parts)?;
    let session = SessionRow::new(id, network.id, data, 1, now, now);
    tx.record_diff(
        Change {
            resource: RESOURCE,
            id,
            operation: Operation::Created,
            territory_path: network.territory_path.clone(),
            previous_territory_path: None,
        },
        None,
        Some(&snapshot(&session)),
    );
    Ok(SessionRecord { session, parts })
}

/// The session row, whatever the scope (the caller checks its network).
pub fn find_row(conn: &mut DbConnection, id: Uuid) -> QueryResult<Option<SessionRow>> {
    sessions::table
        .select(SessionRow::as_select())
        .filter(sessions::id.eq(DbUuid(id)))
        .first(conn)
        .optional()
}

/// The session with its parts and its network, if the scope sees the network.
pub fn find(
    conn: &mut DbConnection,
    id: Uuid,
    scope: &TerritoryScope,
) -> QueryResult<Option<(SessionRecord, NetworkRow)>> {
    let Some(row) = find_row(conn, id)? else {
        return Ok(None);
    };
    let Some(network) = networks::find(conn, row.network_id.0, scope)? else {
        return Ok(None);
    };
    let mut records = with_parts(conn, vec![row])?;
    Ok(records.pop().map(|record| (record, network)))
}

/// Attaches their parts to sessions: three queries whatever the number of sessions.
pub fn with_parts(
    conn: &mut DbConnection,
    rows: Vec<SessionRow>,
) -> QueryResult<Vec<SessionRecord>> {
    if rows.is_empty() {
        return Ok(Vec::new());
    }
    let ids: Vec<DbUuid> = rows.iter().map(|r| r.id).collect();
    let attendance: Vec<AttendanceRow> = session_attendance::table
        .select(AttendanceRow::as_select())
        .filter(session_attendance::session_id.eq_any(ids.clone()))
        .order((
            session_attendance::session_id.asc(),
            session_attendance::person_id.asc(),
        ))
        .load(conn)?;
    let counts: Vec<CountRow> = session_participant_counts::table
        .select(CountRow::as_select())
        .filter(session_participant_counts::session_id.eq_any(ids.clone()))
        .order((
            session_participant_counts::session_id.asc(),
            session_participant_counts::ordinal.asc(),
        ))
        .load(conn)?;
    let agreements: Vec<AgreementRow> = session_agreements::table
        .select(AgreementRow::as_select())
        .filter(session_agreements::session_id.eq_any(ids))
        .order((
            session_agreements::session_id.asc(),
            session_agreements::ordinal.asc(),
        ))
        .load(conn)?;
    let mut parts: HashMap<Uuid, SessionParts> = HashMap::new();
    for row in attendance {
        parts
            .entry(row.session_id.0)
            .or_default()
            .attendance
            .push(row);
    }
    for row in counts {
        parts.entry(row.session_id.0).or_default().counts.push(row);
    }
    for row in agreements {
        parts
            .entry(row.session_id.0)
            .or_default()
            .agreements
            .push(row);
    }
    Ok(rows
        .into_iter()
        .map(|session| SessionRecord {
            parts: parts.remove(&session.id.0).unwrap_or_default(),
            session,
        })
        .collect())
}

pub fn update(
    tx: &mut Tx<'_>,
    network: &NetworkRow,
    current: &SessionRow,
    data: &SessionData,
    parts: &SessionParts,
) -> QueryResult<UpdateOutcome<SessionRecord>> {
    let now = DbTime::now();
    let updated = diesel::update(
        sessions::table
            .filter(sessions::id.eq(current.id))
            .filter(sessions::version.eq(current.version)),
    )
    .set((
        data,
        sessions::version.eq(current.version + 1),
        sessions::updated_at.eq(now),
    ))
    .execute(tx.conn())?;
    if updated == 0 {
        return Ok(UpdateOutcome::Concurrent);
    }
    let parts = write_parts(tx, current.id.0, parts)?;
    let session = SessionRow::new(
        current.id.0,
        current.network_id,
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
            territory_path: network.territory_path.clone(),
            previous_territory_path: None,
        },
        Some(&snapshot(current)),
        Some(&snapshot(&session)),
    );
    Ok(UpdateOutcome::Done(SessionRecord { session, parts }))
}

/// Whether an agreement of another session names this one as where it was followed up.
pub fn is_follow_up_elsewhere(conn: &mut DbConnection, id: Uuid) -> QueryResult<bool> {
    diesel::select(diesel::dsl::exists(
        session_agreements::table
            .filter(session_agreements::followed_up_in.eq(DbUuid(id)))
            .filter(session_agreements::session_id.ne(DbUuid(id))),
    ))
    .get_result(conn)
}

pub fn delete(
    tx: &mut Tx<'_>,
    network: &NetworkRow,
    current: &SessionRow,
) -> QueryResult<UpdateOutcome<()>> {
    write_parts(tx, current.id.0, &SessionParts::default())?;
    let deleted = diesel::delete(
        sessions::table
            .filter(sessions::id.eq(current.id))
            .filter(sessions::version.eq(current.version)),
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
            territory_path: network.territory_path.clone(),
            previous_territory_path: None,
        },
        Some(&snapshot(current)),
        None,
    );
    Ok(UpdateOutcome::Done(()))
}

/// Whether the network has sessions: for deleting it.
pub fn network_has_sessions(conn: &mut DbConnection, network_id: Uuid) -> QueryResult<bool> {
    diesel::select(diesel::dsl::exists(
        sessions::table.filter(sessions::network_id.eq(DbUuid(network_id))),
    ))
    .get_result(conn)
}

/// The ids of the sessions of `network_id` among `ids`: for checking follow-up sessions.
pub fn of_network(
    conn: &mut DbConnection,
    network_id: Uuid,
    ids: Vec<DbUuid>,
) -> QueryResult<Vec<DbUuid>> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    sessions::table
        .select(sessions::id)
        .filter(sessions::network_id.eq(DbUuid(network_id)))
        .filter(sessions::id.eq_any(ids))
        .load(conn)
}

/// Filters of the session lists.
#[derive(Debug, Clone, Default)]
pub struct SessionFilter {
    pub network_id: Option<Uuid>,
    /// Only sessions of networks whose territory is in this subtree (a path); ignored with
    /// `network_id` (the caller resolves both into one network or none).
    pub territory_path: Option<String>,
    /// Only sessions dated on or after this day (`YYYY-MM-DD`).
    pub from: Option<String>,
    /// Only sessions dated on or before this day.
    pub to: Option<String>,
    pub host_school_id: Option<Uuid>,
    pub modalities: Vec<String>,
    pub statuses: Vec<String>,
    pub page: PageRequest,
}

/// A page of the sessions of the networks the scope sees, by date (undated first) then id,
/// with their parts.
pub fn list(
    conn: &mut DbConnection,
    filter: &SessionFilter,
    scope: &TerritoryScope,
) -> QueryResult<Vec<SessionRecord>> {
    use sessions::dsl as s;
    let mut query = s::sessions
        .select(SessionRow::as_select())
        .order((s::sort_key.asc(), s::id.asc()))
        .limit(filter.page.fetch_limit())
        .into_boxed();
    match filter.network_id {
        // The caller has checked that the scope sees this network.
        Some(network) => query = query.filter(s::network_id.eq(DbUuid(network))),
        None => {
            let visible = networks::visible_ids(conn, scope, filter.territory_path.as_deref())?;
            query = query.filter(s::network_id.eq_any(visible));
        }
    }
    if let Some(from) = &filter.from {
        query = query.filter(s::sort_key.ge(from.clone()));
    }
    if let Some(to) = &filter.to {
        query = query
            .filter(s::date.is_not_null())
            .filter(s::sort_key.le(to.clone()));
    }
    if let Some(host) = filter.host_school_id {
        query = query.filter(s::host_school_id.eq(DbUuid(host)));
    }
    if !filter.modalities.is_empty() {
        query = query.filter(s::modality.eq_any(filter.modalities.clone()));
    }
    if !filter.statuses.is_empty() {
        query = query.filter(s::status.eq_any(filter.statuses.clone()));
    }
    if let Some(cursor) = filter.page.after.as_deref().and_then(NameCursor::decode) {
        query = query.filter(
            s::sort_key
                .gt(cursor.name.clone())
                .or(s::sort_key.eq(cursor.name).and(s::id.gt(DbUuid(cursor.id)))),
        );
    }
    let rows = query.load(conn)?;
    with_parts(conn, rows)
}

/// Filters of a network's agreement list.
#[derive(Debug, Clone, Default)]
pub struct AgreementFilter {
    pub statuses: Vec<String>,
    /// Only open agreements due before this day (`YYYY-MM-DD`).
    pub overdue_on: Option<String>,
    pub owner_person_id: Option<Uuid>,
    pub owner_school_id: Option<Uuid>,
    pub page: PageRequest,
}

/// A page of the agreements of a network's sessions, in the order they were recorded (ids are
/// UUIDv7), each with its session.
pub fn list_agreements(
    conn: &mut DbConnection,
    network_id: Uuid,
    filter: &AgreementFilter,
) -> QueryResult<Vec<(AgreementRow, SessionRow)>> {
    use session_agreements::dsl as a;
    let mut query = a::session_agreements
        .inner_join(sessions::table)
        .select((AgreementRow::as_select(), SessionRow::as_select()))
        .filter(sessions::network_id.eq(DbUuid(network_id)))
        .order(a::id.asc())
        .limit(filter.page.fetch_limit())
        .into_boxed();
    if !filter.statuses.is_empty() {
        query = query.filter(a::status.eq_any(filter.statuses.clone()));
    }
    if let Some(day) = &filter.overdue_on {
        query = query
            .filter(a::status.eq("open"))
            .filter(a::due_on.lt(day.clone()));
    }
    if let Some(person) = filter.owner_person_id {
        query = query.filter(a::owner_person_id.eq(DbUuid(person)));
    }
    if let Some(school) = filter.owner_school_id {
        query = query.filter(a::owner_school_id.eq(DbUuid(school)));
    }
    if let Some(after) = filter.page.after.as_deref().and_then(NameCursor::decode) {
        query = query.filter(a::id.gt(DbUuid(after.id)));
    }
    query.load(conn)
}

/// The figures of a network's year, as counted by the database.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct SummaryCounts {
    pub sessions: i64,
    pub held: i64,
    pub cancelled: i64,
    pub present: i64,
    pub absent: i64,
    pub excused: i64,
    pub counted: i64,
    pub counted_with_invited: i64,
    pub invited: i64,
    pub distinct_hosts: i64,
    pub agreements: i64,
    pub open: i64,
    pub done: i64,
    pub overdue: i64,
    pub members_at_start: i64,
    pub members_at_end: i64,
    pub schools_at_start: i64,
    pub schools_at_end: i64,
}

/// A network's figures for the year `[start, end]` (`YYYY-MM-DD`), in one statement whatever
/// the number of sessions: a select of scalar subqueries. `today` decides what is overdue.
pub fn summary(
    conn: &mut DbConnection,
    network_id: Uuid,
    start: &str,
    end: &str,
    today: &str,
) -> QueryResult<SummaryCounts> {
    use diesel::dsl::sum;
    let network = DbUuid(network_id);
    let start = start.to_owned();
    let end = end.to_owned();
    // The year's sessions, and the year's held sessions, as subselects of ids.
    macro_rules! in_year {
        () => {
            sessions::table
                .filter(sessions::network_id.eq(network))
                .filter(sessions::date.ge(start.clone()))
                .filter(sessions::date.le(end.clone()))
        };
    }
    macro_rules! held_ids {
        () => {
            in_year!()
                .filter(sessions::status.eq("held"))
                .select(sessions::id)
        };
    }
    macro_rules! attendance {
        ($status:literal) => {
            session_attendance::table
                .filter(session_attendance::session_id.eq_any(held_ids!()))
                .filter(session_attendance::status.eq($status))
                .count()
                .single_value()
        };
    }
    macro_rules! head_counts {
        () => {
            session_participant_counts::table
                .filter(session_participant_counts::session_id.eq_any(held_ids!()))
                .filter(session_participant_counts::unit.eq("people"))
        };
    }
    macro_rules! agreements {
        () => {
            session_agreements::table
                .filter(session_agreements::session_id.eq_any(in_year!().select(sessions::id)))
        };
    }
    macro_rules! members_on {
        ($day:expr) => {
            network_members::table
                .filter(network_members::network_id.eq(network))
                .filter(
                    network_members::joined_on
                        .is_null()
                        .or(network_members::joined_on.le($day.clone())),
                )
                .filter(
                    network_members::left_on
                        .is_null()
                        .or(network_members::left_on.gt($day.clone())),
                )
        };
    }
    type N = Option<i64>;
    /// The eighteen figures, in the order selected.
    type Figures = (N, N, N, N, N, N, N, N, N, N, N, N, N, N, N, N, N, N);
    let row: Figures = diesel::select((
        in_year!().count().single_value(),
        in_year!()
            .filter(sessions::status.eq("held"))
            .count()
            .single_value(),
        in_year!()
            .filter(sessions::status.eq("cancelled"))
            .count()
            .single_value(),
        attendance!("present"),
        attendance!("absent"),
        attendance!("excused"),
        head_counts!()
            .select(sum(session_participant_counts::count))
            .single_value(),
        head_counts!()
            .filter(session_participant_counts::invited.is_not_null())
            .select(sum(session_participant_counts::count))
            .single_value(),
        head_counts!()
            .select(sum(session_participant_counts::invited))
            .single_value(),
        in_year!()
            .filter(sessions::status.eq("held"))
            .select(diesel::dsl::count(sessions::host_school_id).aggregate_distinct())
            .single_value(),
        agreements!().count().single_value(),
        agreements!()
            .filter(session_agreements::status.eq("open"))
            .count()
            .single_value(),
        agreements!()
            .filter(session_agreements::status.eq("done"))
            .count()
            .single_value(),
        agreements!()
            .filter(session_agreements::status.eq("open"))
            .filter(session_agreements::due_on.lt(today.to_owned()))
            .count()
            .single_value(),
        members_on!(start).count().single_value(),
        members_on!(end).count().single_value(),
        members_on!(start)
            .filter(network_members::school_id.is_not_null())
            .count()
            .single_value(),
        members_on!(end)
            .filter(network_members::school_id.is_not_null())
            .count()
            .single_value(),
    ))
    .get_result(conn)?;
    let n = |v: N| v.unwrap_or(0);
    Ok(SummaryCounts {
        sessions: n(row.0),
        held: n(row.1),
        cancelled: n(row.2),
        present: n(row.3),
        absent: n(row.4),
        excused: n(row.5),
        counted: n(row.6),
        counted_with_invited: n(row.7),
        invited: n(row.8),
        distinct_hosts: n(row.9),
        agreements: n(row.10),
        open: n(row.11),
        done: n(row.12),
        overdue: n(row.13),
        members_at_start: n(row.14),
        members_at_end: n(row.15),
        schools_at_start: n(row.16),
        schools_at_end: n(row.17),
    })
}
