//! Territorial scope inside queries: one place that turns a principal's territories into a
//! condition on a table's `territory_path` column.

use diesel::backend::Backend;
use diesel::expression::BoxableExpression;
use diesel::prelude::*;
use diesel::serialize::ToSql;
use diesel::sql_types::{Bool, HasSqlType, Text};

use crate::auth::TerritoryScope;
use crate::db::MultiBackend;

/// A boolean condition on the rows of `QS`, for backend `DB` (`DbConnection`'s own unless a
/// query runs on the backend's connection, `crate::db::on_backend`).
pub type Condition<'a, QS, DB = MultiBackend> =
    Box<dyn BoxableExpression<QS, DB, SqlType = Bool> + 'a>;

/// `column` lies in one of the scope's subtrees: `(column >= root AND column < upper) OR …`;
/// false for an empty scope.
pub fn within<'a, QS, C, DB>(column: C, scope: &TerritoryScope) -> Condition<'a, QS, DB>
where
    QS: 'a,
    DB: Backend + HasSqlType<Bool> + 'a,
    bool: ToSql<Bool, DB>,
    diesel::dsl::Or<
        Condition<'a, QS, DB>,
        diesel::dsl::And<Condition<'a, QS, DB>, Condition<'a, QS, DB>>,
    >: BoxableExpression<QS, DB, SqlType = Bool>,
    C: ExpressionMethods
        + Expression<SqlType = Text>
        + BoxableExpression<QS, DB, SqlType = Text>
        + Copy
        + 'a,
    diesel::dsl::GtEq<C, String>: BoxableExpression<QS, DB, SqlType = Bool>,
    diesel::dsl::Lt<C, String>: BoxableExpression<QS, DB, SqlType = Bool>,
{
    let mut condition: Condition<'a, QS, DB> = Box::new(false.into_sql::<Bool>());
    for (lower, upper) in scope.ranges() {
        let range: Condition<'a, QS, DB> = Box::new(column.ge(lower));
        let below: Condition<'a, QS, DB> = Box::new(column.lt(upper));
        condition = Box::new(condition.or(range.and(below)));
    }
    condition
}
