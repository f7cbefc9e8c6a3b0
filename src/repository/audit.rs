//! The audit log (see [`crate::audit`]): inserted with each write transaction, read by
//! `GET /api/v1/audit`.

use diesel::prelude::*;

use crate::audit::{Actor, AuditEntry};
use crate::auth::TerritoryScope;
use crate::db::{DbConnection, DbTime};
use crate::repository::scoped;
use crate::schema::audit_log;

#[derive(Insertable)]
#[diesel(table_name = audit_log)]
struct NewRow<'a> {
    at: DbTime,
    principal: &'a str,
    client_id: Option<&'a str>,
    request_id: Option<&'a str>,
    resource: &'a str,
    resource_id: &'a str,
    operation: &'a str,
    territory_path: &'a str,
    previous_territory_path: &'a str,
    changes: String,
}

/// Inserts the entries of the current transaction, by `actor`, in multi-row chunks (a bulk
/// import audits thousands of values in a few statements).
pub fn append(conn: &mut DbConnection, actor: &Actor, entries: &[AuditEntry]) -> QueryResult<()> {
    let at = DbTime::now();
    fn row<'a>(entry: &'a AuditEntry, actor: &'a Actor, at: DbTime) -> NewRow<'a> {
        NewRow {
            at,
            principal: &actor.principal,
            client_id: actor.client_id.as_deref(),
            request_id: actor.request_id.as_deref(),
            resource: entry.resource,
            resource_id: &entry.resource_id,
            operation: entry.operation.as_str(),
            territory_path: &entry.territory_path,
            previous_territory_path: &entry.previous_territory_path,
            changes: entry.changes.to_string(),
        }
    }
    // SQLite allows 32,766 bound parameters per statement: 500 rows of 10 stay well below.
    for chunk in entries.chunks(500) {
        let rows: Vec<NewRow<'_>> = chunk.iter().map(|e| row(e, actor, at)).collect();
        match conn {
            DbConnection::Pg(c) => diesel::insert_into(audit_log::table)
                .values(&rows)
                .execute(c)?,
            DbConnection::Sqlite(c) => diesel::insert_into(audit_log::table)
                .values(&rows)
                .execute(c)?,
        };
    }
    Ok(())
}

/// An audit entry as read.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = audit_log)]
pub struct Row {
    pub seq: i64,
    pub at: DbTime,
    pub principal: String,
    pub client_id: Option<String>,
    pub request_id: Option<String>,
    pub resource: String,
    pub resource_id: String,
    pub operation: String,
    pub changes: String,
}

/// The filters of a page of the log.
#[derive(Debug, Clone, Default)]
pub struct Filter {
    pub resources: Vec<String>,
    pub resource_id: Option<String>,
    pub principal: Option<String>,
    pub client_id: Option<String>,
    pub request_id: Option<String>,
    pub operation: Option<&'static str>,
    pub since: Option<DbTime>,
    pub until: Option<DbTime>,
}

/// Entries newest first, before `before` (a `seq`), in the scope: where the resource is or was,
/// and entries without a territory only for principals holding a whole country.
pub fn list(
    conn: &mut DbConnection,
    filter: &Filter,
    before: Option<i64>,
    limit: i64,
    scope: &TerritoryScope,
) -> QueryResult<Vec<Row>> {
    use audit_log::dsl as a;
    let mut in_scope: scoped::Condition<'_, audit_log::table> = Box::new(
        scoped::within(a::territory_path, scope)
            .or(scoped::within(a::previous_territory_path, scope)),
    );
    if scope.holds_a_country() {
        in_scope = Box::new(in_scope.or(a::territory_path.eq("")));
    }
    let mut query = a::audit_log
        .select(Row::as_select())
        .filter(in_scope)
        .order(a::seq.desc())
        .limit(limit)
        .into_boxed();
    if let Some(before) = before {
        query = query.filter(a::seq.lt(before));
    }
    if !filter.resources.is_empty() {
        query = query.filter(a::resource.eq_any(filter.resources.clone()));
    }
    if let Some(id) = &filter.resource_id {
        query = query.filter(a::resource_id.eq(id.clone()));
    }
    if let Some(principal) = &filter.principal {
        query = query.filter(a::principal.eq(principal.clone()));
    }
    if let Some(client) = &filter.client_id {
        query = query.filter(a::client_id.eq(client.clone()));
    }
    if let Some(request) = &filter.request_id {
        query = query.filter(a::request_id.eq(request.clone()));
    }
    if let Some(operation) = filter.operation {
        query = query.filter(a::operation.eq(operation));
    }
    if let Some(since) = filter.since {
        query = query.filter(a::at.ge(since));
    }
    if let Some(until) = filter.until {
        query = query.filter(a::at.lt(until));
    }
    query.load(conn)
}
