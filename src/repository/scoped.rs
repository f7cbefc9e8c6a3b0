//! Territorial scope inside queries: one place that turns a principal's territories into a
//! condition on a table's `territory_path` column.

use diesel::expression::BoxableExpression;
use diesel::prelude::*;
use diesel::sql_types::{Bool, Text};

use crate::auth::TerritoryScope;
use crate::db::MultiBackend;

/// A boolean condition on the rows of `QS`.
pub type Condition<'a, QS> = Box<dyn BoxableExpression<QS, MultiBackend, SqlType = Bool> + 'a>;

/// `column` lies in one of the scope's subtrees: `(column >= root AND column < upper) OR …`;
/// false for an empty scope.
pub fn within<'a, QS, C>(column: C, scope: &TerritoryScope) -> Condition<'a, QS>
where
    QS: 'a,
    C: ExpressionMethods
        + Expression<SqlType = Text>
        + BoxableExpression<QS, MultiBackend, SqlType = Text>
        + Copy
        + 'a,
    diesel::dsl::GtEq<C, String>: BoxableExpression<QS, MultiBackend, SqlType = Bool>,
    diesel::dsl::Lt<C, String>: BoxableExpression<QS, MultiBackend, SqlType = Bool>,
{
    let mut condition: Condition<'a, QS> = Box::new(false.into_sql::<Bool>());
    for (lower, upper) in scope.ranges() {
        let range: Condition<'a, QS> = Box::new(column.ge(lower));
        let below: Condition<'a, QS> = Box::new(column.lt(upper));
        condition = Box::new(condition.or(range.and(below)));
    }
    condition
}
