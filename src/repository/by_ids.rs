//! Several rows of a table by `id`, in one prepared statement on PostgreSQL whose plan is the
//! same whatever the table's size: the coalesced reads by id (`db::coalesce`).
//!
//! `id = ANY($1)` is what Diesel writes for `eq_any`, but its plan depends on the table and
//! on the array: the generic plan assumes ten ids, and on a table of a few hundred rows it is a
//! sequential scan, while arrays of a known, small length make PostgreSQL prefer planning each
//! call anew (measured on 634 schools: 1.1 ms under `EXPLAIN ANALYZE`, and under load 105 µs
//! of PostgreSQL per statement, more than a statement per read cost). This statement walks the
//! ids and looks each up through the primary key:
//!
//! ```sql
//! SELECT "schools"."id", … FROM (SELECT unnest($1) AS id) AS k
//! CROSS JOIN LATERAL (SELECT * FROM "schools" WHERE "schools".id = k.id LIMIT 1) AS "schools"
//! ```
//!
//! The `LIMIT 1` keeps the lookup a subquery run per id (a nested loop over the primary key,
//! the only plan there is), and the array is padded with NULLs (which find nothing) to at least
//! [`MIN_IDS`] so that PostgreSQL's choice between a custom and the generic plan always falls
//! on the generic one, prepared once per connection.

use std::marker::PhantomData;

use diesel::pg::Pg;
use diesel::prelude::*;
use diesel::query_builder::{AstPass, Query, QueryFragment, QueryId};
use diesel::sql_types::{Array, Nullable};
use uuid::Uuid;

use crate::db::DbUuid;
use crate::db::sql_types;

/// The shortest array sent: more ids than the ten a generic plan assumes, so that a custom
/// plan never looks cheaper than the generic one.
pub const MIN_IDS: usize = 16;

/// The rows of `table` whose `id` is one of the ids, as `Row`s, in no particular order: one
/// per occurrence of its id, so callers give each id once.
pub struct ByIds<T, Row: Selectable<Pg>> {
    table: T,
    columns: Row::SelectExpression,
    ids: Vec<Option<DbUuid>>,
    row: PhantomData<Row>,
}

impl<T, Row: Selectable<Pg>> ByIds<T, Row> {
    pub fn new(table: T, ids: &[Uuid]) -> Self {
        let mut padded: Vec<Option<DbUuid>> = ids.iter().map(|id| Some(DbUuid(*id))).collect();
        if padded.len() < MIN_IDS {
            padded.resize(MIN_IDS, None);
        }
        ByIds {
            table,
            columns: Row::construct_selection(),
            ids: padded,
            row: PhantomData,
        }
    }
}

impl<T: 'static, Row: Selectable<Pg> + 'static> QueryId for ByIds<T, Row> {
    // The SQL depends only on the table and the row's columns, both in the type: Diesel keeps
    // the prepared statement by this type.
    type QueryId = Self;
    const HAS_STATIC_QUERY_ID: bool = true;
}

impl<T, Row: Selectable<Pg>> Query for ByIds<T, Row> {
    // `SelectBy` is its own SQL type: rows load as `Row` as through `.select(Row::as_select())`.
    type SqlType = diesel::dsl::AsSelect<Row, Pg>;
}

impl<T, Row> QueryFragment<Pg> for ByIds<T, Row>
where
    T: Table + QueryFragment<Pg>,
    Row: Selectable<Pg>,
    Row::SelectExpression: QueryFragment<Pg>,
{
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, Pg>) -> QueryResult<()> {
        out.push_sql("SELECT ");
        // The row's columns, qualified by the table's name: the lateral subquery bears it.
        self.columns.walk_ast(out.reborrow())?;
        out.push_sql(" FROM (SELECT unnest(");
        out.push_bind_param::<Array<Nullable<sql_types::Uuid>>, _>(&self.ids)?;
        out.push_sql(") AS id) AS k CROSS JOIN LATERAL (SELECT * FROM ");
        self.table.walk_ast(out.reborrow())?;
        out.push_sql(" WHERE ");
        self.table.walk_ast(out.reborrow())?;
        out.push_sql(".id = k.id LIMIT 1) AS ");
        self.table.walk_ast(out.reborrow())?;
        Ok(())
    }
}

impl<T, Row: Selectable<Pg>, Conn> RunQueryDsl<Conn> for ByIds<T, Row> {}
