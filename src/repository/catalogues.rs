//! Management catalogues as versioned data: the built-in ones from
//! `catalog/management/catalogues.json` (embedded, written to the tables at start), and the
//! items administrators add to them.

use std::collections::HashMap;

use diesel::prelude::*;
use serde::Deserialize;
use sha2::{Digest, Sha256};
use uuid::Uuid;

use crate::db::{DbConnection, DbTime, DbUuid, Tx};
use crate::repository::UpdateOutcome;
use crate::repository::changes::{Change, Operation};
use crate::schema::{catalogue_items, catalogues, reference_data};

pub const ITEM_RESOURCE: &str = "catalogue_item";
const BUILTIN_JSON: &str = include_str!("../../catalog/management/catalogues.json");
const REFERENCE_NAME: &str = "management-catalogues";
/// Ids of built-in catalogues and items are UUIDv5 in this namespace, the same everywhere.
const NAMESPACE: Uuid = Uuid::from_u128(0x3a9e_51c2_7b04_4f6d_9c1e_8d2f_60a4_b7c3);

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct BuiltinFile {
    catalogues: Vec<BuiltinCatalogue>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct BuiltinCatalogue {
    code: String,
    version: String,
    name: String,
    kind: String,
    country: String,
    valid_from: Option<i32>,
    valid_to: Option<i32>,
    source: Option<String>,
    items: Vec<BuiltinItem>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct BuiltinItem {
    code: String,
    name: String,
    level: String,
    parent: Option<String>,
    #[serde(default)]
    legal_basis: Option<String>,
}

/// The id of the built-in catalogue `code` in `version`.
pub fn catalogue_id(code: &str, version: &str) -> Uuid {
    Uuid::new_v5(&NAMESPACE, format!("catalogue:{code}:{version}").as_bytes())
}

/// The id of a built-in item.
pub fn item_id(code: &str, version: &str, item: &str) -> Uuid {
    Uuid::new_v5(
        &NAMESPACE,
        format!("catalogue-item:{code}:{version}:{item}").as_bytes(),
    )
}

#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable, Insertable, AsChangeset)]
#[diesel(table_name = catalogues, treat_none_as_null = true)]
pub struct CatalogueRow {
    pub id: DbUuid,
    pub code: String,
    pub version: String,
    pub name: String,
    pub kind: String,
    pub country: String,
    pub valid_from: Option<i32>,
    pub valid_to: Option<i32>,
    pub source: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable, serde::Serialize)]
#[diesel(table_name = catalogue_items)]
pub struct ItemRow {
    #[serde(skip)]
    pub id: DbUuid,
    pub catalogue_id: DbUuid,
    pub code: String,
    pub name: String,
    pub level: String,
    pub parent_id: Option<DbUuid>,
    pub legal_basis: Option<String>,
    pub ordinal: i32,
    pub builtin: bool,
    pub version: i64,
    #[serde(skip)]
    pub created_at: DbTime,
    #[serde(skip)]
    pub updated_at: DbTime,
}

/// The writable content of an item, validated.
#[derive(Debug, Clone, PartialEq, Eq, Insertable, serde::Serialize)]
#[diesel(table_name = catalogue_items)]
pub struct ItemData {
    pub code: String,
    pub name: String,
    pub level: String,
    pub parent_id: Option<DbUuid>,
    pub legal_basis: Option<String>,
}

/// What a start-up sync did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SyncOutcome {
    Unchanged,
    Loaded { catalogues: usize, items: usize },
}

/// Writes the built-in catalogues to the tables when the embedded file changed: inserts what
/// is missing and updates what differs, in one transaction. Items administrators added are
/// left alone; built-in items are never deleted (plans may refer to them).
pub fn sync_builtin(conn: &mut DbConnection) -> anyhow::Result<SyncOutcome> {
    let file: BuiltinFile = serde_json::from_str(BUILTIN_JSON)?;
    let checksum = format!("{:x}", Sha256::digest(BUILTIN_JSON.as_bytes()));
    let outcome = conn.transaction(|conn| -> QueryResult<SyncOutcome> {
        let loaded: Option<String> = reference_data::table
            .filter(reference_data::name.eq(REFERENCE_NAME))
            .select(reference_data::checksum)
            .first(conn)
            .optional()?;
        if loaded.as_deref() == Some(checksum.as_str()) {
            return Ok(SyncOutcome::Unchanged);
        }
        let now = DbTime::now();
        let mut count = 0;
        for catalogue in &file.catalogues {
            let id = catalogue_id(&catalogue.code, &catalogue.version);
            let row = CatalogueRow {
                id: DbUuid(id),
                code: catalogue.code.clone(),
                version: catalogue.version.clone(),
                name: catalogue.name.clone(),
                kind: catalogue.kind.clone(),
                country: catalogue.country.clone(),
                valid_from: catalogue.valid_from,
                valid_to: catalogue.valid_to,
                source: catalogue.source.clone(),
            };
            let exists: bool = diesel::select(diesel::dsl::exists(
                catalogues::table.filter(catalogues::id.eq(row.id)),
            ))
            .get_result(conn)?;
            if exists {
                diesel::update(catalogues::table.filter(catalogues::id.eq(row.id)))
                    .set(&row)
                    .execute(conn)?;
            } else {
                diesel::insert_into(catalogues::table)
                    .values(&row)
                    .execute(conn)?;
            }
            // Parents come before their children in the file.
            for (item, ordinal) in catalogue.items.iter().zip(0..) {
                let item_id = DbUuid(item_id(&catalogue.code, &catalogue.version, &item.code));
                let parent_id = item
                    .parent
                    .as_deref()
                    .map(|p| DbUuid(self::item_id(&catalogue.code, &catalogue.version, p)));
                let exists: bool = diesel::select(diesel::dsl::exists(
                    catalogue_items::table.filter(catalogue_items::id.eq(item_id)),
                ))
                .get_result(conn)?;
                let values = (
                    catalogue_items::code.eq(&item.code),
                    catalogue_items::name.eq(&item.name),
                    catalogue_items::level.eq(&item.level),
                    catalogue_items::parent_id.eq(parent_id),
                    catalogue_items::legal_basis.eq(&item.legal_basis),
                    catalogue_items::ordinal.eq(ordinal),
                );
                if exists {
                    diesel::update(catalogue_items::table.filter(catalogue_items::id.eq(item_id)))
                        .set(values)
                        .execute(conn)?;
                } else {
                    diesel::insert_into(catalogue_items::table)
                        .values((
                            catalogue_items::id.eq(item_id),
                            catalogue_items::catalogue_id.eq(DbUuid(id)),
                            values,
                            catalogue_items::builtin.eq(true),
                            catalogue_items::version.eq(1i64),
                            catalogue_items::created_at.eq(now),
                            catalogue_items::updated_at.eq(now),
                        ))
                        .execute(conn)?;
                }
                count += 1;
            }
        }
        diesel::delete(reference_data::table.filter(reference_data::name.eq(REFERENCE_NAME)))
            .execute(conn)?;
        diesel::insert_into(reference_data::table)
            .values((
                reference_data::name.eq(REFERENCE_NAME),
                reference_data::checksum.eq(&checksum),
                reference_data::row_count.eq(i32::try_from(count).unwrap_or(i32::MAX)),
                reference_data::loaded_at.eq(now),
            ))
            .execute(conn)?;
        Ok(SyncOutcome::Loaded {
            catalogues: file.catalogues.len(),
            items: count,
        })
    })?;
    Ok(outcome)
}

/// The catalogues, by code then version, optionally of one kind or country.
pub fn list(
    conn: &mut DbConnection,
    kind: Option<&str>,
    country: Option<&str>,
) -> QueryResult<Vec<CatalogueRow>> {
    let mut query = catalogues::table
        .select(CatalogueRow::as_select())
        .order((catalogues::code.asc(), catalogues::version.asc()))
        .into_boxed();
    if let Some(kind) = kind {
        query = query.filter(catalogues::kind.eq(kind.to_owned()));
    }
    if let Some(country) = country {
        query = query.filter(catalogues::country.eq(country.to_owned()));
    }
    query.load(conn)
}

pub fn find(conn: &mut DbConnection, id: Uuid) -> QueryResult<Option<CatalogueRow>> {
    catalogues::table
        .select(CatalogueRow::as_select())
        .filter(catalogues::id.eq(DbUuid(id)))
        .first(conn)
        .optional()
}

/// The items of the catalogues among `ids`, in order, by catalogue.
pub fn items_of(
    conn: &mut DbConnection,
    ids: Vec<DbUuid>,
) -> QueryResult<HashMap<Uuid, Vec<ItemRow>>> {
    let rows: Vec<ItemRow> = catalogue_items::table
        .select(ItemRow::as_select())
        .filter(catalogue_items::catalogue_id.eq_any(ids))
        .order((
            catalogue_items::catalogue_id.asc(),
            catalogue_items::ordinal.asc(),
            catalogue_items::id.asc(),
        ))
        .load(conn)?;
    let mut by_catalogue: HashMap<Uuid, Vec<ItemRow>> = HashMap::new();
    for row in rows {
        by_catalogue
            .entry(row.catalogue_id.0)
            .or_default()
            .push(row);
    }
    Ok(by_catalogue)
}

pub fn find_item(
    conn: &mut DbConnection,
    catalogue_id: Uuid,
    id: Uuid,
) -> QueryResult<Option<ItemRow>> {
    catalogue_items::table
        .select(ItemRow::as_select())
        .filter(catalogue_items::catalogue_id.eq(DbUuid(catalogue_id)))
        .filter(catalogue_items::id.eq(DbUuid(id)))
        .first(conn)
        .optional()
}

/// Adds an item after the catalogue's others.
pub fn insert_item(
    tx: &mut Tx<'_>,
    id: Uuid,
    catalogue: &CatalogueRow,
    territory_path: &str,
    data: &ItemData,
) -> QueryResult<ItemRow> {
    let last: Option<i32> = catalogue_items::table
        .filter(catalogue_items::catalogue_id.eq(catalogue.id))
        .select(diesel::dsl::max(catalogue_items::ordinal))
        .first(tx.conn())?;
    let ordinal = last.map_or(0, |l| l.saturating_add(1));
    let now = DbTime::now();
    diesel::insert_into(catalogue_items::table)
        .values((
            catalogue_items::id.eq(DbUuid(id)),
            catalogue_items::catalogue_id.eq(catalogue.id),
            data,
            catalogue_items::ordinal.eq(ordinal),
            catalogue_items::builtin.eq(false),
            catalogue_items::version.eq(1i64),
            catalogue_items::created_at.eq(now),
            catalogue_items::updated_at.eq(now),
        ))
        .execute(tx.conn())?;
    tx.record_diff(
        Change {
            resource: ITEM_RESOURCE,
            id,
            operation: Operation::Created,
            territory_path: territory_path.to_owned(),
            previous_territory_path: None,
        },
        None,
        Some(&crate::audit::snapshot(data)),
    );
    Ok(ItemRow {
        id: DbUuid(id),
        catalogue_id: catalogue.id,
        code: data.code.clone(),
        name: data.name.clone(),
        level: data.level.clone(),
        parent_id: data.parent_id,
        legal_basis: data.legal_basis.clone(),
        ordinal,
        builtin: false,
        version: 1,
        created_at: now,
        updated_at: now,
    })
}

/// Whether another item hangs from this one.
pub fn has_children(conn: &mut DbConnection, id: Uuid) -> QueryResult<bool> {
    diesel::select(diesel::dsl::exists(
        catalogue_items::table.filter(catalogue_items::parent_id.eq(DbUuid(id))),
    ))
    .get_result(conn)
}

pub fn delete_item(
    tx: &mut Tx<'_>,
    current: &ItemRow,
    territory_path: &str,
) -> QueryResult<UpdateOutcome<()>> {
    let deleted = diesel::delete(
        catalogue_items::table
            .filter(catalogue_items::id.eq(current.id))
            .filter(catalogue_items::version.eq(current.version)),
    )
    .execute(tx.conn())?;
    if deleted == 0 {
        return Ok(UpdateOutcome::Concurrent);
    }
    tx.record_diff(
        Change {
            resource: ITEM_RESOURCE,
            id: current.id.0,
            operation: Operation::Deleted,
            territory_path: territory_path.to_owned(),
            previous_territory_path: None,
        },
        Some(&crate::audit::snapshot(current)),
        None,
    );
    Ok(UpdateOutcome::Done(()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_builtin_catalogues_read_and_their_parents_come_first() {
        let file: BuiltinFile = serde_json::from_str(BUILTIN_JSON).expect("catalogues.json");
        assert_eq!(file.catalogues.len(), 4);
        for catalogue in &file.catalogues {
            let mut seen = std::collections::HashSet::new();
            for item in &catalogue.items {
                if let Some(parent) = &item.parent {
                    assert!(
                        seen.contains(parent),
                        "{}: {parent} after its child",
                        catalogue.code
                    );
                }
                assert!(seen.insert(item.code.clone()), "{} repeated", item.code);
            }
        }
        let planes = file
            .catalogues
            .iter()
            .find(|c| c.kind == "planes_normativos")
            .expect("the planes normativos");
        assert_eq!(planes.items.len(), 6);
        assert!(planes.items.iter().all(|i| i.legal_basis.is_some()));
    }
}
