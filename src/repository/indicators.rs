//! Indicator definitions (the built-in catalogue from `catalog/indicators/indicators.json`,
//! embedded and written to the table at start when it changed) and indicator values.

use diesel::prelude::*;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use uuid::Uuid;

use crate::audit::AuditEntry;
use crate::auth::TerritoryScope;
use crate::db::{DbConnection, DbTime, DbUuid, Tx};
use crate::pagination::PageRequest;
use crate::repository::changes::{Change, Operation};
use crate::repository::{NameCursor, UpdateOutcome, scoped};
use crate::schema::{indicator_values, indicators, reference_data};

pub const VALUE_RESOURCE: &str = "indicator_value";
/// The audit log's name for indicator definitions.
pub const DEFINITION_RESOURCE: &str = "indicator";
pub const BUILTIN_JSON: &str = include_str!("../../catalog/indicators/indicators.json");
const REFERENCE_NAME: &str = "indicator-definitions";
/// Ids of built-in definitions are UUIDv5 of their code in this namespace, the same everywhere.
const NAMESPACE: Uuid = Uuid::from_u128(0x5d2c_8e41_0a7b_4c3f_9e16_b4a0_7f3d_2c19);

/// The id of the built-in indicator `code`.
pub fn indicator_id(code: &str) -> Uuid {
    Uuid::new_v5(&NAMESPACE, format!("indicator:{code}").as_bytes())
}

/// A definition as the built-in file states it.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct BuiltinIndicator {
    pub code: String,
    pub name_es: String,
    pub name_en: String,
    pub description: Option<String>,
    pub unit: String,
    pub value_type: String,
    pub aggregation_territory: String,
    pub aggregation_time: String,
    pub formula: Option<serde_json::Value>,
    pub disaggregations: Vec<serde_json::Value>,
    pub periodicity: String,
    pub source: Option<String>,
    pub country: Option<String>,
    #[serde(default)]
    pub mapping: Option<serde_json::Value>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BuiltinFile {
    pub code: String,
    pub version: String,
    #[expect(dead_code, reason = "documentation for readers of the file")]
    notes: Vec<String>,
    pub indicators: Vec<BuiltinIndicator>,
}

/// The built-in file, read.
pub fn builtin() -> serde_json::Result<BuiltinFile> {
    serde_json::from_str(BUILTIN_JSON)
}

#[derive(
    Debug, Clone, PartialEq, Queryable, Selectable, Insertable, AsChangeset, serde::Serialize,
)]
#[diesel(table_name = indicators, treat_none_as_null = true)]
pub struct IndicatorRow {
    #[serde(skip)]
    pub id: DbUuid,
    pub code: String,
    pub name_es: String,
    pub name_en: String,
    pub description: Option<String>,
    pub unit: String,
    pub value_type: String,
    pub aggregation_territory: String,
    pub aggregation_time: String,
    pub formula: Option<String>,
    pub disaggregations: String,
    pub periodicity: String,
    pub source: Option<String>,
    pub country: Option<String>,
    pub mapping: Option<String>,
    pub builtin: bool,
    pub version: i64,
    #[serde(skip)]
    pub created_at: DbTime,
    #[serde(skip)]
    pub updated_at: DbTime,
}

/// What a start-up sync did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SyncOutcome {
    Unchanged,
    Loaded { indicators: usize },
}

/// Writes the built-in definitions when the embedded file changed: inserts what is missing and
/// updates what differs, in one transaction; definitions are never deleted (values refer to
/// them).
pub fn sync_builtin(conn: &mut DbConnection) -> anyhow::Result<SyncOutcome> {
    let file = builtin()?;
    let checksum = format!("{:x}", Sha256::digest(BUILTIN_JSON.as_bytes()));
    let outcome = conn.transaction(|conn| -> anyhow::Result<SyncOutcome> {
        let loaded: Option<String> = reference_data::table
            .filter(reference_data::name.eq(REFERENCE_NAME))
            .select(reference_data::checksum)
            .first(conn)
            .optional()?;
        if loaded.as_deref() == Some(checksum.as_str()) {
            return Ok(SyncOutcome::Unchanged);
        }
        let now = DbTime::now();
        let json = |value: &Option<serde_json::Value>| -> anyhow::Result<Option<String>> {
            Ok(value.as_ref().map(serde_json::to_string).transpose()?)
        };
        for definition in &file.indicators {
            let id = DbUuid(indicator_id(&definition.code));
            let existing: Option<IndicatorRow> = indicators::table
                .select(IndicatorRow::as_select())
                .filter(indicators::id.eq(id))
                .first(conn)
                .optional()?;
            let taken: bool = diesel::select(diesel::dsl::exists(
                indicators::table
                    .filter(indicators::code.eq(&definition.code))
                    .filter(indicators::builtin.eq(false)),
            ))
            .get_result(conn)?;
            if taken {
                // A definition added through the API holds the code a new release ships:
                // keep it (its values refer to it) and say so.
                tracing::warn!(code = %definition.code, "a built-in indicator's code is taken by a definition added through the API; the built-in one is not loaded");
                continue;
            }
            let row = IndicatorRow {
                id,
                code: definition.code.clone(),
                name_es: definition.name_es.clone(),
                name_en: definition.name_en.clone(),
                description: definition.description.clone(),
                unit: definition.unit.clone(),
                value_type: definition.value_type.clone(),
                aggregation_territory: definition.aggregation_territory.clone(),
                aggregation_time: definition.aggregation_time.clone(),
                formula: json(&definition.formula)?,
                disaggregations: serde_json::to_string(&definition.disaggregations)?,
                periodicity: definition.periodicity.clone(),
                source: definition.source.clone(),
                country: definition.country.clone(),
                mapping: json(&definition.mapping)?,
                builtin: true,
                version: existing.as_ref().map_or(1, |e| e.version + 1),
                created_at: existing.as_ref().map_or(now, |e| e.created_at),
                updated_at: now,
            };
            match existing {
                Some(_) => {
                    diesel::update(indicators::table.filter(indicators::id.eq(id)))
                        .set(&row)
                        .execute(conn)?;
                }
                None => {
                    diesel::insert_into(indicators::table)
                        .values(&row)
                        .execute(conn)?;
                }
            }
        }
        diesel::delete(reference_data::table.filter(reference_data::name.eq(REFERENCE_NAME)))
            .execute(conn)?;
        diesel::insert_into(reference_data::table)
            .values((
                reference_data::name.eq(REFERENCE_NAME),
                reference_data::checksum.eq(&checksum),
                reference_data::row_count
                    .eq(i32::try_from(file.indicators.len()).unwrap_or(i32::MAX)),
                reference_data::loaded_at.eq(now),
            ))
            .execute(conn)?;
        Ok(SyncOutcome::Loaded {
            indicators: file.indicators.len(),
        })
    })?;
    Ok(outcome)
}

/// Definitions, by code, optionally of one country (`none` for the platform's own).
pub fn list(
    conn: &mut DbConnection,
    country: Option<&str>,
    after: Option<&str>,
    fetch: i64,
) -> QueryResult<Vec<IndicatorRow>> {
    let mut query = indicators::table
        .select(IndicatorRow::as_select())
        .order(indicators::code.asc())
        .limit(fetch)
        .into_boxed();
    match country {
        Some("none") => query = query.filter(indicators::country.is_null()),
        Some(country) => query = query.filter(indicators::country.eq(country.to_owned())),
        None => {}
    }
    if let Some(after) = after {
        query = query.filter(indicators::code.gt(after.to_owned()));
    }
    query.load(conn)
}

/// The definition with this id or code.
pub fn find(conn: &mut DbConnection, id_or_code: &str) -> QueryResult<Option<IndicatorRow>> {
    if id_or_code.contains('\0') {
        // No code holds a NUL (and PostgreSQL's text cannot carry one).
        return Ok(None);
    }
    let mut query = indicators::table
        .select(IndicatorRow::as_select())
        .into_boxed();
    query = match Uuid::parse_str(id_or_code) {
        Ok(id) => query.filter(indicators::id.eq(DbUuid(id))),
        Err(_) => query.filter(indicators::code.eq(id_or_code.to_owned())),
    };
    query.first(conn).optional()
}

/// Adds a definition (one made through the API).
pub fn insert_definition(tx: &mut Tx<'_>, row: &IndicatorRow) -> QueryResult<()> {
    diesel::insert_into(indicators::table)
        .values(row)
        .execute(tx.conn())?;
    // Definitions are not in the change journal, but they are audited; they lie outside the
    // territory tree (principals of a whole country read their entries).
    tx.audit(AuditEntry::new(
        DEFINITION_RESOURCE,
        row.id.0.to_string(),
        Operation::Created,
        "",
        None,
        Some(&crate::audit::snapshot(row)),
    ));
    Ok(())
}

/// Whether any value refers to the definition.
pub fn definition_has_values(conn: &mut DbConnection, id: DbUuid) -> QueryResult<bool> {
    diesel::select(diesel::dsl::exists(
        indicator_values::table.filter(indicator_values::indicator_id.eq(id)),
    ))
    .get_result(conn)
}

/// Removes a definition made through the API, at the version read (a concurrent change
/// makes it a no-op the caller sees as 0 rows).
pub fn delete_definition(tx: &mut Tx<'_>, current: &IndicatorRow) -> QueryResult<usize> {
    let deleted = diesel::delete(
        indicators::table
            .filter(indicators::id.eq(current.id))
            .filter(indicators::version.eq(current.version))
            .filter(indicators::builtin.eq(false)),
    )
    .execute(tx.conn())?;
    if deleted > 0 {
        tx.audit(AuditEntry::new(
            DEFINITION_RESOURCE,
            current.id.0.to_string(),
            Operation::Deleted,
            "",
            Some(&crate::audit::snapshot(current)),
            None,
        ));
    }
    Ok(deleted)
}

/// The definitions with these codes.
pub fn by_codes(conn: &mut DbConnection, codes: Vec<String>) -> QueryResult<Vec<IndicatorRow>> {
    indicators::table
        .select(IndicatorRow::as_select())
        .filter(indicators::code.eq_any(codes))
        .load(conn)
}

/// The definitions with these ids.
pub fn by_ids(conn: &mut DbConnection, ids: Vec<DbUuid>) -> QueryResult<Vec<IndicatorRow>> {
    indicators::table
        .select(IndicatorRow::as_select())
        .filter(indicators::id.eq_any(ids))
        .load(conn)
}

/// A value as a pull aggregates it: the columns it needs and no more (a pull reads thousands).
#[derive(Debug, Clone, PartialEq, Queryable, Selectable)]
#[diesel(table_name = indicator_values)]
pub struct PullValue {
    pub indicator_id: DbUuid,
    pub org_unit_kind: String,
    pub org_unit_id: DbUuid,
    pub territory_path: String,
    pub period_start: String,
    pub period_end: String,
    pub value: f64,
    pub numerator: Option<f64>,
    pub denominator: Option<f64>,
}

#[derive(Debug, Clone, PartialEq, Queryable, Selectable, Insertable)]
#[diesel(table_name = indicator_values)]
pub struct ValueRow {
    pub id: DbUuid,
    pub indicator_id: DbUuid,
    pub org_unit_kind: String,
    pub org_unit_id: DbUuid,
    pub territory_path: String,
    pub period: String,
    pub period_start: String,
    pub period_end: String,
    pub disaggregation: String,
    pub value: f64,
    pub numerator: Option<f64>,
    pub denominator: Option<f64>,
    pub source: Option<String>,
    pub comment: Option<String>,
    pub version: i64,
    pub created_at: DbTime,
    pub updated_at: DbTime,
}

/// A value as the audit log keeps it: small, because a bulk import audits every value.
fn audited(row: &ValueRow) -> serde_json::Value {
    serde_json::json!({
        "indicator_id": row.indicator_id,
        "period": row.period,
        "disaggregation": row.disaggregation,
        "value": row.value,
        "numerator": row.numerator,
        "denominator": row.denominator,
        "version": row.version,
    })
}

fn change(row: &ValueRow, operation: Operation) -> Change {
    Change {
        resource: VALUE_RESOURCE,
        id: row.id.0,
        operation,
        territory_path: row.territory_path.clone(),
        previous_territory_path: None,
    }
}

/// Records a value (its natural key must be free: see [`find_by_key`]).
pub fn insert_value(tx: &mut Tx<'_>, row: &ValueRow) -> QueryResult<()> {
    diesel::insert_into(indicator_values::table)
        .values(row)
        .execute(tx.conn())?;
    tx.record_diff(change(row, Operation::Created), None, Some(&audited(row)));
    Ok(())
}

/// Rows per multi-row statement: 17 columns × 500 rows stays well inside SQLite's 32,766 bound
/// parameters (and PostgreSQL's 65,535).
const INSERT_CHUNK: usize = 500;
/// (indicator, org unit) pairs per lookup statement: SQLite refuses expressions deeper than
/// 1,000, and each pair adds a level of `OR`.
const LOOKUP_PAIRS: usize = 200;

/// Records values whose natural keys are free, in multi-row statements, journalling each.
pub fn insert_values(tx: &mut Tx<'_>, rows: &[ValueRow]) -> QueryResult<()> {
    // Multi-row inserts do not compile through the multi-backend connection.
    for chunk in rows.chunks(INSERT_CHUNK) {
        match tx.conn() {
            DbConnection::Pg(c) => diesel::insert_into(indicator_values::table)
                .values(chunk)
                .execute(c)?,
            DbConnection::Sqlite(c) => diesel::insert_into(indicator_values::table)
                .values(chunk)
                .execute(c)?,
        };
    }
    for row in rows {
        tx.record_diff(change(row, Operation::Created), None, Some(&audited(row)));
    }
    Ok(())
}

/// The values that may share a natural key with one of `rows`: those of each row's indicator
/// and org unit in the rows' periods, in a few statements (the caller matches keys exactly).
pub fn find_by_keys(conn: &mut DbConnection, rows: &[&ValueRow]) -> QueryResult<Vec<ValueRow>> {
    use indicator_values::dsl as v;
    let mut pairs: Vec<(DbUuid, DbUuid)> = rows
        .iter()
        .map(|r| (r.indicator_id, r.org_unit_id))
        .collect();
    pairs.sort();
    pairs.dedup();
    let mut found = Vec::new();
    for chunk in pairs.chunks(LOOKUP_PAIRS) {
        let mut periods: Vec<String> = rows
            .iter()
            .filter(|r| {
                chunk
                    .binary_search(&(r.indicator_id, r.org_unit_id))
                    .is_ok()
            })
            .map(|r| r.period.clone())
            .collect();
        periods.sort();
        periods.dedup();
        // No `false OR` seed: SQLite answers an OR through the unique index only when every
        // term of it can use the index, and scans the table otherwise.
        let mut terms = chunk.iter().map(|(indicator, unit)| {
            let term: scoped::Condition<'_, indicator_values::table> =
                Box::new(v::indicator_id.eq(*indicator).and(v::org_unit_id.eq(*unit)));
            term
        });
        let Some(first) = terms.next() else {
            continue;
        };
        let any = terms.fold(first, |any, term| Box::new(any.or(term)));
        found.extend(
            v::indicator_values
                .select(ValueRow::as_select())
                .filter(v::period.eq_any(periods))
                .filter(any)
                .load(conn)?,
        );
    }
    Ok(found)
}

/// Refreshes PostgreSQL's statistics of the values table (nothing to do on SQLite, whose
/// planner goes by the indexes).
pub fn analyze_values(conn: &mut DbConnection) -> QueryResult<()> {
    if let DbConnection::Pg(pg) = conn {
        diesel::sql_query("ANALYZE indicator_values").execute(pg)?;
    }
    Ok(())
}

/// The value, if the scope sees its org unit.
pub fn find_value(
    conn: &mut DbConnection,
    id: Uuid,
    scope: &TerritoryScope,
) -> QueryResult<Option<ValueRow>> {
    indicator_values::table
        .select(ValueRow::as_select())
        .filter(indicator_values::id.eq(DbUuid(id)))
        .filter(scoped::within(indicator_values::territory_path, scope))
        .first(conn)
        .optional()
}

/// The value of this indicator, org unit, period and disaggregation, if there is one.
pub fn find_by_key(conn: &mut DbConnection, row: &ValueRow) -> QueryResult<Option<ValueRow>> {
    indicator_values::table
        .select(ValueRow::as_select())
        .filter(indicator_values::indicator_id.eq(row.indicator_id))
        .filter(indicator_values::org_unit_id.eq(row.org_unit_id))
        .filter(indicator_values::period.eq(&row.period))
        .filter(indicator_values::disaggregation.eq(&row.disaggregation))
        .first(conn)
        .optional()
}

/// Changes the value's figures if it is still at `current`'s version.
pub fn update_value(
    tx: &mut Tx<'_>,
    current: &ValueRow,
    next: &ValueRow,
) -> QueryResult<UpdateOutcome<ValueRow>> {
    let now = DbTime::now();
    let version = current.version + 1;
    let updated = diesel::update(
        indicator_values::table
            .filter(indicator_values::id.eq(current.id))
            .filter(indicator_values::version.eq(current.version)),
    )
    .set((
        indicator_values::value.eq(next.value),
        indicator_values::numerator.eq(next.numerator),
        indicator_values::denominator.eq(next.denominator),
        indicator_values::source.eq(&next.source),
        indicator_values::comment.eq(&next.comment),
        indicator_values::version.eq(version),
        indicator_values::updated_at.eq(now),
    ))
    .execute(tx.conn())?;
    if updated == 0 {
        return Ok(UpdateOutcome::Concurrent);
    }
    let row = ValueRow {
        value: next.value,
        numerator: next.numerator,
        denominator: next.denominator,
        source: next.source.clone(),
        comment: next.comment.clone(),
        version,
        updated_at: now,
        ..current.clone()
    };
    tx.record_diff(
        change(&row, Operation::Updated),
        Some(&audited(current)),
        Some(&audited(&row)),
    );
    Ok(UpdateOutcome::Done(row))
}

pub fn delete_value(tx: &mut Tx<'_>, current: &ValueRow) -> QueryResult<UpdateOutcome<()>> {
    let deleted = diesel::delete(
        indicator_values::table
            .filter(indicator_values::id.eq(current.id))
            .filter(indicator_values::version.eq(current.version)),
    )
    .execute(tx.conn())?;
    if deleted == 0 {
        return Ok(UpdateOutcome::Concurrent);
    }
    tx.record_diff(
        change(current, Operation::Deleted),
        Some(&audited(current)),
        None,
    );
    Ok(UpdateOutcome::Done(()))
}

/// Filters of the value list; each list is "any of".
#[derive(Debug, Clone, Default)]
pub struct ValueFilter {
    pub indicator_ids: Vec<DbUuid>,
    pub org_unit_ids: Vec<DbUuid>,
    pub periods: Vec<String>,
    /// Only values whose period starts on or after this day…
    pub from: Option<String>,
    /// …and ends on or before this one.
    pub to: Option<String>,
    /// Only this disaggregation (`''` for totals).
    pub disaggregation: Option<String>,
    pub page: PageRequest,
}

/// A page of the values whose org unit is in the scope, by id (the order they were recorded).
pub fn list_values(
    conn: &mut DbConnection,
    filter: &ValueFilter,
    scope: &TerritoryScope,
) -> QueryResult<Vec<ValueRow>> {
    use indicator_values::dsl as v;
    let mut query = v::indicator_values
        .select(ValueRow::as_select())
        .filter(scoped::within(v::territory_path, scope))
        .order(v::id.asc())
        .limit(filter.page.fetch_limit())
        .into_boxed();
    if !filter.indicator_ids.is_empty() {
        query = query.filter(v::indicator_id.eq_any(filter.indicator_ids.clone()));
    }
    if !filter.org_unit_ids.is_empty() {
        query = query.filter(v::org_unit_id.eq_any(filter.org_unit_ids.clone()));
    }
    if !filter.periods.is_empty() {
        query = query.filter(v::period.eq_any(filter.periods.clone()));
    }
    if let Some(from) = &filter.from {
        query = query.filter(v::period_start.ge(from.clone()));
    }
    if let Some(to) = &filter.to {
        query = query.filter(v::period_end.le(to.clone()));
    }
    if let Some(disaggregation) = &filter.disaggregation {
        query = query.filter(v::disaggregation.eq(disaggregation.clone()));
    }
    if let Some(after) = filter.page.after.as_deref().and_then(NameCursor::decode) {
        query = query.filter(v::id.gt(DbUuid(after.id)));
    }
    query.load(conn)
}

/// Whether values are recorded for this org unit: for deleting it.
pub fn org_unit_has_values(conn: &mut DbConnection, id: Uuid) -> QueryResult<bool> {
    diesel::select(diesel::dsl::exists(
        indicator_values::table.filter(indicator_values::org_unit_id.eq(DbUuid(id))),
    ))
    .get_result(conn)
}

/// The values an analytics pull reads: of these indicators and disaggregation, with periods
/// inside `[start, end]`, in the scope.
pub fn values_for_pull(
    conn: &mut DbConnection,
    indicators: Vec<DbUuid>,
    disaggregation: &str,
    (start, end): (&str, &str),
    scope: &TerritoryScope,
) -> QueryResult<Vec<PullValue>> {
    use indicator_values::dsl as v;
    v::indicator_values
        .select(PullValue::as_select())
        .filter(v::indicator_id.eq_any(indicators))
        .filter(v::disaggregation.eq(disaggregation.to_owned()))
        .filter(v::period_start.ge(start.to_owned()))
        .filter(v::period_end.le(end.to_owned()))
        .filter(scoped::within(v::territory_path, scope))
        .order((v::indicator_id.asc(), v::period_start.asc(), v::id.asc()))
        .load(conn)
}

/// A school's membership of a network: (network, school, joined on, left on).
pub type Membership = (Uuid, Uuid, Option<String>, Option<String>);

/// The school memberships of the networks among `networks`, as (network, school, joined on,
/// left on): a pull decides in memory which were current in each period.
pub fn network_school_memberships(
    conn: &mut DbConnection,
    networks: Vec<DbUuid>,
) -> QueryResult<Vec<Membership>> {
    use crate::schema::network_members as m;
    if networks.is_empty() {
        return Ok(Vec::new());
    }
    type Row = (DbUuid, Option<DbUuid>, Option<String>, Option<String>);
    let rows: Vec<Row> = m::table
        .filter(m::network_id.eq_any(networks))
        .filter(m::school_id.is_not_null())
        .select((m::network_id, m::school_id, m::joined_on, m::left_on))
        .load(conn)?;
    Ok(rows
        .into_iter()
        .filter_map(|(network, school, joined, left)| {
            school.map(|school| (network.0, school.0, joined, left))
        })
        .collect())
}

/// The networks active between `start` and `end` (`YYYY-MM-DD`), in the scope, as (id, kind,
/// territory path): those that held a session then, or that are `active` (since no later than
/// `end`), were founded by then and had a member then. The live count behind
/// `REDES_REDES_ACTIVAS`.
pub fn active_networks(
    conn: &mut DbConnection,
    (start, end): (&str, &str),
    scope: &TerritoryScope,
) -> QueryResult<Vec<(Uuid, String, String)>> {
    use crate::schema::{network_members as m, networks as n, sessions as s};
    let year: i32 = end
        .get(..4)
        .and_then(|y| y.parse().ok())
        .unwrap_or(i32::MAX);
    let held = s::table
        .filter(s::status.eq("held"))
        .filter(s::date.ge(start.to_owned()))
        .filter(s::date.le(end.to_owned()))
        .select(s::network_id);
    let with_members = m::table
        .filter(m::joined_on.is_null().or(m::joined_on.le(end.to_owned())))
        .filter(m::left_on.is_null().or(m::left_on.gt(start.to_owned())))
        .select(m::network_id);
    let rows: Vec<(DbUuid, String, String)> = n::table
        .filter(scoped::within(n::territory_path, scope))
        .filter(
            n::id.eq_any(held).or(n::status
                .eq("active")
                .and(
                    n::status_since
                        .is_null()
                        .or(n::status_since.le(end.to_owned())),
                )
                .and(n::founded_year.is_null().or(n::founded_year.le(year)))
                .and(n::id.eq_any(with_members))),
        )
        .select((n::id, n::kind, n::territory_path))
        .load(conn)?;
    Ok(rows
        .into_iter()
        .map(|(id, kind, path)| (id.0, kind, path))
        .collect())
}
