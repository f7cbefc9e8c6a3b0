//! The territory catalogue table.

use diesel::prelude::*;

use crate::auth::territorial::subtree_upper_bound;
use crate::catalog::Catalogue;
use crate::db::{DbConnection, DbTime, DbUuid};
use crate::domain::text::{escape_like, fold};
use crate::domain::{Country, TerritoryLevel, TerritoryRef};
use crate::pagination::PageRequest;
use crate::schema::{reference_data, territories};

/// A territory as stored.
#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable)]
#[diesel(table_name = territories)]
pub struct TerritoryRow {
    pub id: DbUuid,
    pub key: String,
    pub country: String,
    pub level: String,
    pub code: String,
    pub name: String,
    pub parent_id: Option<DbUuid>,
    pub depth: i16,
    pub path: String,
}

impl TerritoryRow {
    /// The key of the parent, read from the path (`/CL/CL-13/CL-131/` → `CL-13`).
    pub fn parent_key(&self) -> Option<&str> {
        let mut segments = self.path.trim_matches('/').rsplit('/');
        segments.next();
        segments.next()
    }

    /// The keys of the ancestors, root first.
    pub fn ancestor_keys(&self) -> Vec<String> {
        let mut keys: Vec<String> = self
            .path
            .trim_matches('/')
            .split('/')
            .map(str::to_owned)
            .collect();
        keys.pop();
        keys
    }
}

/// Filters of the territory list. All present filters must hold.
#[derive(Debug, Clone, Default)]
pub struct TerritoryFilter {
    pub country: Option<Country>,
    pub level: Option<TerritoryLevel>,
    pub parent_id: Option<uuid::Uuid>,
    pub code: Option<String>,
    /// Text the folded name must contain (see `domain::text::fold`).
    pub name_contains: Option<String>,
    /// Only strict descendants of the territory with this path.
    pub below_path: Option<String>,
    pub page: PageRequest,
}

/// One page of territories in key order (for codes that nest, key order is also tree order:
/// each territory comes right before its descendants).
pub fn list(conn: &mut DbConnection, filter: &TerritoryFilter) -> QueryResult<Vec<TerritoryRow>> {
    use territories::dsl as t;
    let mut query = t::territories
        .select(TerritoryRow::as_select())
        .order(t::key.asc())
        .limit(filter.page.fetch_limit())
        .into_boxed();
    if let Some(country) = filter.country {
        query = query.filter(t::country.eq(country.as_str()));
    }
    if let Some(level) = filter.level {
        query = query.filter(t::level.eq(level.as_str()));
    }
    if let Some(parent) = filter.parent_id {
        query = query.filter(t::parent_id.eq(DbUuid(parent)));
    }
    if let Some(code) = &filter.code {
        query = query.filter(t::code.eq(code.clone()));
    }
    if let Some(text) = &filter.name_contains {
        let pattern = format!("%{}%", escape_like(&fold(text)));
        query = query.filter(t::search_name.like(pattern).escape('\\'));
    }
    if let Some(path) = &filter.below_path {
        query = query
            .filter(t::path.gt(path.clone()))
            .filter(t::path.lt(subtree_upper_bound(path)));
    }
    if let Some(after) = &filter.page.after {
        query = query.filter(t::key.gt(after.clone()));
    }
    query.load(conn)
}

pub fn find(
    conn: &mut DbConnection,
    reference: &TerritoryRef,
) -> QueryResult<Option<TerritoryRow>> {
    use territories::dsl as t;
    let query = t::territories.select(TerritoryRow::as_select());
    match reference {
        TerritoryRef::Id(id) => query.filter(t::id.eq(DbUuid(*id))).first(conn).optional(),
        TerritoryRef::Key(key) => query
            .filter(t::key.eq(key.as_str().to_owned()))
            .first(conn)
            .optional(),
    }
}

/// The territory and its ancestors, root first, in one query.
pub fn with_ancestors(
    conn: &mut DbConnection,
    reference: &TerritoryRef,
) -> QueryResult<Option<(TerritoryRow, Vec<TerritoryRow>)>> {
    let Some(territory) = find(conn, reference)? else {
        return Ok(None);
    };
    use territories::dsl as t;
    let ancestors = t::territories
        .select(TerritoryRow::as_select())
        .filter(t::key.eq_any(territory.ancestor_keys()))
        .order(t::depth.asc())
        .load(conn)?;
    Ok(Some((territory, ancestors)))
}

#[derive(Insertable)]
#[diesel(table_name = territories)]
struct NewTerritory<'a> {
    id: DbUuid,
    key: &'a str,
    country: &'a str,
    level: &'a str,
    code: &'a str,
    name: &'a str,
    search_name: String,
    parent_id: Option<DbUuid>,
    depth: i16,
    path: &'a str,
}

/// What loading the catalogue did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SyncOutcome {
    /// This exact catalogue was already loaded.
    Unchanged,
    Loaded {
        inserted: usize,
        updated: usize,
    },
}

const CATALOGUE_NAME: &str = "territories";

/// Writes the catalogue to the table: inserts missing territories, renames changed ones and
/// records the catalogue's checksum, all in one transaction. Loading the same catalogue again
/// does nothing. Territories are never deleted, since other rows may refer to them.
pub fn sync_catalogue(conn: &mut DbConnection, catalogue: &Catalogue) -> QueryResult<SyncOutcome> {
    conn.transaction(|conn| {
        let loaded: Option<String> = reference_data::table
            .filter(reference_data::name.eq(CATALOGUE_NAME))
            .select(reference_data::checksum)
            .first(conn)
            .optional()?;
        if loaded.as_deref() == Some(catalogue.checksum()) {
            return Ok(SyncOutcome::Unchanged);
        }
        let existing: std::collections::HashMap<String, String> = territories::table
            .select((territories::key, territories::name))
            .load::<(String, String)>(conn)?
            .into_iter()
            .collect();

        let mut inserts = Vec::new();
        let mut renames = Vec::new();
        for entry in catalogue.entries() {
            match existing.get(entry.key.as_str()) {
                None => inserts.push(NewTerritory {
                    id: DbUuid(entry.id),
                    key: entry.key.as_str(),
                    country: entry.country().as_str(),
                    level: entry.level.as_str(),
                    code: entry.key.code(),
                    name: &entry.name,
                    search_name: fold(&entry.name),
                    parent_id: entry.parent.as_ref().map(|p| DbUuid(p.id())),
                    depth: entry.depth(),
                    path: &entry.path,
                }),
                Some(name) if *name != entry.name => renames.push(entry),
                Some(_) => {}
            }
        }
        // Multi-row inserts do not compile through the multi-backend connection; the same
        // statement is issued on whichever connection is underneath.
        for chunk in inserts.chunks(500) {
            match conn {
                DbConnection::Pg(c) => diesel::insert_into(territories::table)
                    .values(chunk)
                    .execute(c)?,
                DbConnection::Sqlite(c) => diesel::insert_into(territories::table)
                    .values(chunk)
                    .execute(c)?,
            };
        }
        for entry in &renames {
            diesel::update(territories::table.filter(territories::key.eq(entry.key.as_str())))
                .set((
                    territories::name.eq(&entry.name),
                    territories::search_name.eq(fold(&entry.name)),
                ))
                .execute(conn)?;
        }
        diesel::delete(reference_data::table.filter(reference_data::name.eq(CATALOGUE_NAME)))
            .execute(conn)?;
        diesel::insert_into(reference_data::table)
            .values((
                reference_data::name.eq(CATALOGUE_NAME),
                reference_data::checksum.eq(catalogue.checksum()),
                reference_data::row_count.eq(catalogue.entries().len() as i32),
                reference_data::loaded_at.eq(DbTime::now()),
            ))
            .execute(conn)?;
        Ok(SyncOutcome::Loaded {
            inserted: inserts.len(),
            updated: renames.len(),
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_give_parents_ancestors_and_subtree_bounds() {
        let row = TerritoryRow {
            id: DbUuid(uuid::Uuid::nil()),
            key: "CL-13101".into(),
            country: "CL".into(),
            level: "comuna".into(),
            code: "13101".into(),
            name: "Santiago".into(),
            parent_id: None,
            depth: 3,
            path: "/CL/CL-13/CL-131/CL-13101/".into(),
        };
        assert_eq!(row.parent_key(), Some("CL-131"));
        assert_eq!(row.ancestor_keys(), vec!["CL", "CL-13", "CL-131"]);
        let upper = subtree_upper_bound("/CL/CL-13/");
        assert_eq!(upper, "/CL/CL-130");
        assert!("/CL/CL-13/CL-131/" > "/CL/CL-13/" && "/CL/CL-13/CL-131/" < upper.as_str());
        assert!("/CL/CL-14/" > upper.as_str());
    }
}
