//! Plans (PME, PMI, PAM, planes normativos) with their trees of items, and the typed, dated
//! links from their items to what they articulate with.
//!
//! A plan is visible where its owner (a school or a Secretaría) is: its row carries the
//! owner's territory path.

use std::collections::HashMap;

use diesel::prelude::*;
use uuid::Uuid;

use crate::auth::TerritoryScope;
use crate::db::{DbConnection, DbTime, DbUuid, Tx};
use crate::pagination::PageRequest;
use crate::repository::changes::{Change, Operation};
use crate::repository::{NameCursor, UpdateOutcome, scoped};
use crate::schema::{pei_revisions, pei_sellos, plan_items, plan_links, plans};

pub const RESOURCE: &str = "plan";
pub const LINK_RESOURCE: &str = "plan_link";

#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable, serde::Serialize)]
#[diesel(table_name = plans)]
pub struct PlanRow {
    #[serde(skip)]
    pub id: DbUuid,
    pub kind: String,
    pub school_id: Option<DbUuid>,
    pub organization_id: Option<DbUuid>,
    pub country: String,
    pub territory_path: String,
    pub title: String,
    pub period_from: i32,
    pub period_to: i32,
    pub phase: Option<String>,
    pub catalogue_id: DbUuid,
    pub normative_item_id: Option<DbUuid>,
    pub self_assessment: String,
    pub version: i64,
    #[serde(skip)]
    pub created_at: DbTime,
    #[serde(skip)]
    pub updated_at: DbTime,
}

/// The writable content of a plan's own row, validated.
#[derive(Debug, Clone, PartialEq, Eq, Insertable, AsChangeset)]
#[diesel(table_name = plans, treat_none_as_null = true)]
pub struct PlanData {
    pub kind: String,
    pub school_id: Option<DbUuid>,
    pub organization_id: Option<DbUuid>,
    pub country: String,
    pub territory_path: String,
    pub title: String,
    pub period_from: i32,
    pub period_to: i32,
    pub phase: Option<String>,
    pub catalogue_id: DbUuid,
    pub normative_item_id: Option<DbUuid>,
    pub self_assessment: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable, Insertable)]
#[diesel(table_name = plan_items)]
pub struct ItemRow {
    pub id: DbUuid,
    pub plan_id: DbUuid,
    pub parent_id: Option<DbUuid>,
    pub level: String,
    pub ordinal: i32,
    pub title: String,
    pub catalogue_item_id: Option<DbUuid>,
    pub indicator: Option<String>,
    pub starts_on: Option<String>,
    pub ends_on: Option<String>,
    pub status: Option<String>,
    pub executed_percent: Option<i32>,
    pub detail: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable, Insertable, serde::Serialize)]
#[diesel(table_name = plan_links)]
pub struct LinkRow {
    #[serde(skip)]
    pub id: DbUuid,
    pub plan_id: DbUuid,
    pub item_id: DbUuid,
    pub link_type: String,
    pub target_id: Option<DbUuid>,
    pub target_text: Option<String>,
    pub valid_from: String,
    pub valid_to: Option<String>,
    pub note: Option<String>,
    pub version: i64,
    #[serde(skip)]
    pub created_at: DbTime,
}

/// A plan with its items, in tree order (every item after its parent, siblings by ordinal).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlanRecord {
    pub plan: PlanRow,
    pub items: Vec<ItemRow>,
}

fn change(id: Uuid, operation: Operation, resource: &'static str, path: &str) -> Change {
    Change {
        resource,
        id,
        operation,
        territory_path: path.to_owned(),
        previous_territory_path: None,
    }
}

fn insert_items(tx: &mut Tx<'_>, items: &[ItemRow]) -> QueryResult<()> {
    for item in items {
        diesel::insert_into(plan_items::table)
            .values(item)
            .execute(tx.conn())?;
    }
    Ok(())
}

/// Creates a plan with its items (their `plan_id` must be `id`).
pub fn insert(
    tx: &mut Tx<'_>,
    id: Uuid,
    data: &PlanData,
    items: Vec<ItemRow>,
) -> QueryResult<PlanRecord> {
    let now = DbTime::now();
    diesel::insert_into(plans::table)
        .values((
            plans::id.eq(DbUuid(id)),
            data,
            plans::version.eq(1i64),
            plans::created_at.eq(now),
            plans::updated_at.eq(now),
        ))
        .execute(tx.conn())?;
    insert_items(tx, &items)?;
    let plan = row_of(id, data, 1, now, now);
    tx.record_diff(
        change(id, Operation::Created, RESOURCE, &data.territory_path),
        None,
        Some(&crate::audit::snapshot(&plan)),
    );
    Ok(PlanRecord { plan, items })
}

fn row_of(id: Uuid, data: &PlanData, version: i64, created_at: DbTime, now: DbTime) -> PlanRow {
    PlanRow {
        id: DbUuid(id),
        kind: data.kind.clone(),
        school_id: data.school_id,
        organization_id: data.organization_id,
        country: data.country.clone(),
        territory_path: data.territory_path.clone(),
        title: data.title.clone(),
        period_from: data.period_from,
        period_to: data.period_to,
        phase: data.phase.clone(),
        catalogue_id: data.catalogue_id,
        normative_item_id: data.normative_item_id,
        self_assessment: data.self_assessment.clone(),
        version,
        created_at,
        updated_at: now,
    }
}

/// The plan's row, if the scope sees it.
pub fn find(
    conn: &mut DbConnection,
    id: Uuid,
    scope: &TerritoryScope,
) -> QueryResult<Option<PlanRow>> {
    plans::table
        .select(PlanRow::as_select())
        .filter(plans::id.eq(DbUuid(id)))
        .filter(scoped::within(plans::territory_path, scope))
        .first(conn)
        .optional()
}

/// The items of the plans among `ids`, by plan, in tree order.
pub fn items_of(
    conn: &mut DbConnection,
    ids: Vec<DbUuid>,
) -> QueryResult<HashMap<Uuid, Vec<ItemRow>>> {
    let rows: Vec<ItemRow> = plan_items::table
        .select(ItemRow::as_select())
        .filter(plan_items::plan_id.eq_any(ids))
        .order((plan_items::plan_id.asc(), plan_items::ordinal.asc()))
        .load(conn)?;
    let mut by_plan: HashMap<Uuid, Vec<ItemRow>> = HashMap::new();
    for row in rows {
        by_plan.entry(row.plan_id.0).or_default().push(row);
    }
    Ok(by_plan)
}

/// The plan with its items.
pub fn with_items(conn: &mut DbConnection, plan: PlanRow) -> QueryResult<PlanRecord> {
    let items = items_of(conn, vec![plan.id])?
        .remove(&plan.id.0)
        .unwrap_or_default();
    Ok(PlanRecord { plan, items })
}

/// Rewrites the plan and its items if it is still at `current`'s version. Links from items
/// that are gone go with them (the caller has checked that no other plan links to them, see
/// [`dropped_items_linked_elsewhere`]).
pub fn update(
    tx: &mut Tx<'_>,
    current: &PlanRow,
    data: &PlanData,
    items: Vec<ItemRow>,
) -> QueryResult<UpdateOutcome<PlanRecord>> {
    let now = DbTime::now();
    let version = current.version + 1;
    let updated = diesel::update(
        plans::table
            .filter(plans::id.eq(current.id))
            .filter(plans::version.eq(current.version)),
    )
    .set((data, plans::version.eq(version), plans::updated_at.eq(now)))
    .execute(tx.conn())?;
    if updated == 0 {
        return Ok(UpdateOutcome::Concurrent);
    }
    let kept: Vec<DbUuid> = items.iter().map(|i| i.id).collect();
    let gone: Vec<DbUuid> = plan_items::table
        .filter(plan_items::plan_id.eq(current.id))
        .filter(plan_items::id.ne_all(kept))
        .select(plan_items::id)
        .load(tx.conn())?;
    if !gone.is_empty() {
        diesel::delete(plan_links::table.filter(plan_links::item_id.eq_any(gone)))
            .execute(tx.conn())?;
    }
    diesel::delete(plan_items::table.filter(plan_items::plan_id.eq(current.id)))
        .execute(tx.conn())?;
    insert_items(tx, &items)?;
    let plan = row_of(current.id.0, data, version, current.created_at, now);
    tx.record_diff(
        change(
            current.id.0,
            Operation::Updated,
            RESOURCE,
            &data.territory_path,
        ),
        Some(&crate::audit::snapshot(current)),
        Some(&crate::audit::snapshot(&plan)),
    );
    Ok(UpdateOutcome::Done(PlanRecord { plan, items }))
}

/// Whether a link of another plan names one of this plan's items other than `kept`.
pub fn dropped_items_linked_elsewhere(
    conn: &mut DbConnection,
    plan_id: Uuid,
    kept: Vec<DbUuid>,
) -> QueryResult<bool> {
    let dropped = plan_items::table
        .filter(plan_items::plan_id.eq(DbUuid(plan_id)))
        .filter(plan_items::id.ne_all(kept))
        .select(plan_items::id.nullable());
    diesel::select(diesel::dsl::exists(
        plan_links::table
            .filter(plan_links::plan_id.ne(DbUuid(plan_id)))
            .filter(plan_links::target_id.eq_any(dropped)),
    ))
    .get_result(conn)
}

/// Whether a link of another plan names one of this plan's items.
pub fn is_linked_from_elsewhere(conn: &mut DbConnection, plan_id: Uuid) -> QueryResult<bool> {
    let items = plan_items::table
        .filter(plan_items::plan_id.eq(DbUuid(plan_id)))
        .select(plan_items::id.nullable());
    diesel::select(diesel::dsl::exists(
        plan_links::table
            .filter(plan_links::plan_id.ne(DbUuid(plan_id)))
            .filter(plan_links::target_id.eq_any(items)),
    ))
    .get_result(conn)
}

/// Deletes the plan with its items and links, if it is still at `current`'s version.
pub fn delete(tx: &mut Tx<'_>, current: &PlanRow) -> QueryResult<UpdateOutcome<()>> {
    diesel::delete(plan_links::table.filter(plan_links::plan_id.eq(current.id)))
        .execute(tx.conn())?;
    diesel::delete(plan_items::table.filter(plan_items::plan_id.eq(current.id)))
        .execute(tx.conn())?;
    let deleted = diesel::delete(
        plans::table
            .filter(plans::id.eq(current.id))
            .filter(plans::version.eq(current.version)),
    )
    .execute(tx.conn())?;
    if deleted == 0 {
        return Ok(UpdateOutcome::Concurrent);
    }
    tx.record_diff(
        change(
            current.id.0,
            Operation::Deleted,
            RESOURCE,
            &current.territory_path,
        ),
        Some(&crate::audit::snapshot(current)),
        None,
    );
    Ok(UpdateOutcome::Done(()))
}

/// Whether a plan belongs to the school.
pub fn refers_to_school(conn: &mut DbConnection, id: Uuid) -> QueryResult<bool> {
    diesel::select(diesel::dsl::exists(
        plans::table.filter(plans::school_id.eq(DbUuid(id))),
    ))
    .get_result(conn)
}

/// Whether a plan belongs to the organisation.
pub fn refers_to_organization(conn: &mut DbConnection, id: Uuid) -> QueryResult<bool> {
    diesel::select(diesel::dsl::exists(
        plans::table.filter(plans::organization_id.eq(DbUuid(id))),
    ))
    .get_result(conn)
}

/// Whether a link names this resource (a network, an agreement, a cycle…) as its target.
pub fn is_link_target(conn: &mut DbConnection, id: Uuid) -> QueryResult<bool> {
    diesel::select(diesel::dsl::exists(
        plan_links::table.filter(plan_links::target_id.eq(DbUuid(id))),
    ))
    .get_result(conn)
}

/// Filters of the plan list.
#[derive(Debug, Clone, Default)]
pub struct PlanFilter {
    pub kinds: Vec<String>,
    pub school_id: Option<Uuid>,
    pub organization_id: Option<Uuid>,
    /// Only plans whose period covers this year.
    pub year: Option<i32>,
    pub territory_path: Option<String>,
    pub page: PageRequest,
}

/// A page of the plans the scope sees, in the order they were created (ids are UUIDv7).
pub fn list(
    conn: &mut DbConnection,
    filter: &PlanFilter,
    scope: &TerritoryScope,
) -> QueryResult<Vec<PlanRow>> {
    use plans::dsl as p;
    let mut query = p::plans
        .select(PlanRow::as_select())
        .filter(scoped::within(p::territory_path, scope))
        .order(p::id.asc())
        .limit(filter.page.fetch_limit())
        .into_boxed();
    if !filter.kinds.is_empty() {
        query = query.filter(p::kind.eq_any(filter.kinds.clone()));
    }
    if let Some(school) = filter.school_id {
        query = query.filter(p::school_id.eq(DbUuid(school)));
    }
    if let Some(organization) = filter.organization_id {
        query = query.filter(p::organization_id.eq(DbUuid(organization)));
    }
    if let Some(year) = filter.year {
        query = query
            .filter(p::period_from.le(year))
            .filter(p::period_to.ge(year));
    }
    if let Some(path) = &filter.territory_path {
        query = query.filter(scoped::within(
            p::territory_path,
            &TerritoryScope::from_paths([path.clone()]),
        ));
    }
    if let Some(after) = filter.page.after.as_deref().and_then(NameCursor::decode) {
        query = query.filter(p::id.gt(DbUuid(after.id)));
    }
    query.load(conn)
}

/// How many items of each level the plans among `ids` have, by plan and level.
pub fn item_counts(
    conn: &mut DbConnection,
    ids: Vec<DbUuid>,
) -> QueryResult<HashMap<(Uuid, String), i64>> {
    let rows: Vec<(DbUuid, String, i64)> = plan_items::table
        .filter(plan_items::plan_id.eq_any(ids))
        .group_by((plan_items::plan_id, plan_items::level))
        .select((
            plan_items::plan_id,
            plan_items::level,
            diesel::dsl::count_star(),
        ))
        .load(conn)?;
    Ok(rows
        .into_iter()
        .map(|(plan, level, count)| ((plan.0, level), count))
        .collect())
}

/// The plans of the schools among `schools` whose period covers `year`, of the given kinds.
pub fn of_schools(
    conn: &mut DbConnection,
    schools: Vec<DbUuid>,
    year: i32,
    kinds: &[&str],
) -> QueryResult<Vec<PlanRow>> {
    plans::table
        .select(PlanRow::as_select())
        .filter(plans::school_id.eq_any(schools))
        .filter(plans::kind.eq_any(kinds.iter().map(|k| (*k).to_owned())))
        .filter(plans::period_from.le(year))
        .filter(plans::period_to.ge(year))
        .order(plans::id.asc())
        .load(conn)
}

/// The links of the plans among `plans` in force on `on` (`YYYY-MM-DD`).
pub fn links_in_force(
    conn: &mut DbConnection,
    plans: Vec<DbUuid>,
    on: &str,
) -> QueryResult<Vec<LinkRow>> {
    plan_links::table
        .select(LinkRow::as_select())
        .filter(plan_links::plan_id.eq_any(plans))
        .filter(plan_links::valid_from.le(on.to_owned()))
        .filter(
            plan_links::valid_to
                .is_null()
                .or(plan_links::valid_to.ge(on.to_owned())),
        )
        .order(plan_links::id.asc())
        .load(conn)
}

/// The sellos of the current PEI of each school among `schools`, in order, and which schools
/// have a PEI: two statements however many schools.
pub fn current_sellos(
    conn: &mut DbConnection,
    schools: Vec<DbUuid>,
) -> QueryResult<SellosBySchool> {
    let revisions: Vec<(DbUuid, DbUuid, i64)> = pei_revisions::table
        .filter(pei_revisions::school_id.eq_any(schools))
        .select((
            pei_revisions::id,
            pei_revisions::school_id,
            pei_revisions::revision,
        ))
        .load(conn)?;
    let mut latest: HashMap<Uuid, (DbUuid, i64)> = HashMap::new();
    for (id, school, revision) in revisions {
        let entry = latest.entry(school.0).or_insert((id, revision));
        if revision > entry.1 {
            *entry = (id, revision);
        }
    }
    let school_of: HashMap<Uuid, Uuid> = latest
        .iter()
        .map(|(school, (revision, _))| (revision.0, *school))
        .collect();
    let rows: Vec<(DbUuid, DbUuid, String)> = pei_sellos::table
        .filter(pei_sellos::revision_id.eq_any(latest.values().map(|(id, _)| *id)))
        .order((pei_sellos::revision_id.asc(), pei_sellos::ordinal.asc()))
        .select((pei_sellos::revision_id, pei_sellos::id, pei_sellos::name))
        .load(conn)?;
    let mut sellos: HashMap<Uuid, Vec<(Uuid, String)>> = HashMap::new();
    for (revision, id, name) in rows {
        if let Some(school) = school_of.get(&revision.0) {
            sellos.entry(*school).or_default().push((id.0, name));
        }
    }
    Ok((sellos, latest.into_keys().collect()))
}

/// Sellos (id, name) by school, and the schools that have a PEI.
pub type SellosBySchool = (
    HashMap<Uuid, Vec<(Uuid, String)>>,
    std::collections::HashSet<Uuid>,
);

/// The schools that are members of the network on `on` (`YYYY-MM-DD`), each once.
pub fn member_schools_on(
    conn: &mut DbConnection,
    network_id: Uuid,
    on: &str,
) -> QueryResult<Vec<crate::repository::schools::SchoolRow>> {
    use crate::repository::schools::SchoolRow;
    use crate::schema::{network_members, schools};
    let current = network_members::table
        .filter(network_members::network_id.eq(DbUuid(network_id)))
        .filter(
            network_members::joined_on
                .is_null()
                .or(network_members::joined_on.le(on.to_owned())),
        )
        .filter(
            network_members::left_on
                .is_null()
                .or(network_members::left_on.gt(on.to_owned())),
        )
        .select(network_members::school_id);
    schools::table
        .select(SchoolRow::as_select())
        .filter(schools::id.nullable().eq_any(current))
        .order((schools::search_name.asc(), schools::id.asc()))
        .load(conn)
}

pub fn insert_link(tx: &mut Tx<'_>, link: &LinkRow, territory_path: &str) -> QueryResult<()> {
    diesel::insert_into(plan_links::table)
        .values(link)
        .execute(tx.conn())?;
    tx.record_diff(
        change(link.id.0, Operation::Created, LINK_RESOURCE, territory_path),
        None,
        Some(&crate::audit::snapshot(link)),
    );
    Ok(())
}

pub fn find_link(conn: &mut DbConnection, plan_id: Uuid, id: Uuid) -> QueryResult<Option<LinkRow>> {
    plan_links::table
        .select(LinkRow::as_select())
        .filter(plan_links::plan_id.eq(DbUuid(plan_id)))
        .filter(plan_links::id.eq(DbUuid(id)))
        .first(conn)
        .optional()
}

/// Whether the item already has a link of this type to this target in force on `on`.
pub fn has_link(conn: &mut DbConnection, link: &LinkRow, on: &str) -> QueryResult<bool> {
    let mut query = plan_links::table
        .filter(plan_links::item_id.eq(link.item_id))
        .filter(plan_links::link_type.eq(link.link_type.clone()))
        .filter(
            plan_links::valid_to
                .is_null()
                .or(plan_links::valid_to.ge(on.to_owned())),
        )
        .into_boxed();
    query = match link.target_id {
        Some(target) => query.filter(plan_links::target_id.eq(target)),
        None => query.filter(plan_links::target_id.is_null()),
    };
    query = match &link.target_text {
        Some(text) => query.filter(plan_links::target_text.eq(text.clone())),
        None => query.filter(plan_links::target_text.is_null()),
    };
    Ok(query
        .select(plan_links::id)
        .first::<DbUuid>(conn)
        .optional()?
        .is_some())
}

/// Filters of a plan's link list.
#[derive(Debug, Clone, Default)]
pub struct LinkFilter {
    pub types: Vec<String>,
    pub item_id: Option<Uuid>,
    pub target_id: Option<Uuid>,
    /// Only links in force on this date.
    pub on: Option<String>,
    pub page: PageRequest,
}

/// A page of the plan's links, in the order they were made.
pub fn list_links(
    conn: &mut DbConnection,
    plan_id: Uuid,
    filter: &LinkFilter,
) -> QueryResult<Vec<LinkRow>> {
    use plan_links::dsl as l;
    let mut query = l::plan_links
        .select(LinkRow::as_select())
        .filter(l::plan_id.eq(DbUuid(plan_id)))
        .order(l::id.asc())
        .limit(filter.page.fetch_limit())
        .into_boxed();
    if !filter.types.is_empty() {
        query = query.filter(l::link_type.eq_any(filter.types.clone()));
    }
    if let Some(item) = filter.item_id {
        query = query.filter(l::item_id.eq(DbUuid(item)));
    }
    if let Some(target) = filter.target_id {
        query = query.filter(l::target_id.eq(DbUuid(target)));
    }
    if let Some(on) = &filter.on {
        query = query
            .filter(l::valid_from.le(on.clone()))
            .filter(l::valid_to.is_null().or(l::valid_to.ge(on.clone())));
    }
    if let Some(after) = filter.page.after.as_deref().and_then(NameCursor::decode) {
        query = query.filter(l::id.gt(DbUuid(after.id)));
    }
    query.load(conn)
}

/// Ends a link on `valid_to` (or reopens it with `None`) and sets its note, if it is still at
/// `link`'s version.
pub fn update_link(
    tx: &mut Tx<'_>,
    link: &LinkRow,
    valid_to: Option<String>,
    note: Option<String>,
    territory_path: &str,
) -> QueryResult<UpdateOutcome<LinkRow>> {
    let updated = diesel::update(
        plan_links::table
            .filter(plan_links::id.eq(link.id))
            .filter(plan_links::version.eq(link.version)),
    )
    .set((
        plan_links::valid_to.eq(&valid_to),
        plan_links::note.eq(&note),
        plan_links::version.eq(link.version + 1),
    ))
    .execute(tx.conn())?;
    if updated == 0 {
        return Ok(UpdateOutcome::Concurrent);
    }
    let updated_link = LinkRow {
        valid_to,
        note,
        version: link.version + 1,
        ..link.clone()
    };
    tx.record_diff(
        change(link.id.0, Operation::Updated, LINK_RESOURCE, territory_path),
        Some(&crate::audit::snapshot(link)),
        Some(&crate::audit::snapshot(&updated_link)),
    );
    Ok(UpdateOutcome::Done(updated_link))
}

pub fn delete_link(
    tx: &mut Tx<'_>,
    link: &LinkRow,
    territory_path: &str,
) -> QueryResult<UpdateOutcome<()>> {
    let deleted = diesel::delete(
        plan_links::table
            .filter(plan_links::id.eq(link.id))
            .filter(plan_links::version.eq(link.version)),
    )
    .execute(tx.conn())?;
    if deleted == 0 {
        return Ok(UpdateOutcome::Concurrent);
    }
    tx.record_diff(
        change(link.id.0, Operation::Deleted, LINK_RESOURCE, territory_path),
        Some(&crate::audit::snapshot(link)),
        None,
    );
    Ok(UpdateOutcome::Done(()))
}

/// The session agreement's network, if the agreement exists.
pub fn agreement_network(conn: &mut DbConnection, id: Uuid) -> QueryResult<Option<Uuid>> {
    use crate::schema::{session_agreements, sessions};
    let network: Option<DbUuid> = session_agreements::table
        .inner_join(sessions::table)
        .filter(session_agreements::id.eq(DbUuid(id)))
        .select(sessions::network_id)
        .first(conn)
        .optional()?;
    Ok(network.map(|n| n.0))
}

/// What the links' targets are called, by target id: a sello's name (in its latest
/// revision), a catalogue item's, a network's, an agreement's text, an improvement cycle's or a
/// plan item's title. One
/// statement per type of target present.
pub fn target_names(
    conn: &mut DbConnection,
    links: &[LinkRow],
) -> QueryResult<HashMap<Uuid, String>> {
    use crate::domain::plan::LinkType;
    use crate::schema::{catalogue_items, networks, session_agreements};
    let of = |kind: LinkType| -> Vec<DbUuid> {
        links
            .iter()
            .filter(|l| l.link_type == kind.as_str())
            .filter_map(|l| l.target_id)
            .collect()
    };
    let mut names = HashMap::new();
    let sellos = of(LinkType::Sello);
    if !sellos.is_empty() {
        let rows: Vec<(DbUuid, String)> = pei_sellos::table
            .inner_join(pei_revisions::table)
            .filter(pei_sellos::id.eq_any(sellos))
            .order(pei_revisions::revision.asc())
            .select((pei_sellos::id, pei_sellos::name))
            .load(conn)?;
        // Later revisions come last and win.
        names.extend(rows.into_iter().map(|(id, name)| (id.0, name)));
    }
    let items = of(LinkType::PlanNormativo);
    if !items.is_empty() {
        let rows: Vec<(DbUuid, String)> = catalogue_items::table
            .filter(catalogue_items::id.eq_any(items))
            .select((catalogue_items::id, catalogue_items::name))
            .load(conn)?;
        names.extend(rows.into_iter().map(|(id, name)| (id.0, name)));
    }
    let nets = of(LinkType::NetworkObjective);
    if !nets.is_empty() {
        let rows: Vec<(DbUuid, String)> = networks::table
            .filter(networks::id.eq_any(nets))
            .select((networks::id, networks::name))
            .load(conn)?;
        names.extend(rows.into_iter().map(|(id, name)| (id.0, name)));
    }
    let agreements = of(LinkType::Agreement);
    if !agreements.is_empty() {
        let rows: Vec<(DbUuid, String)> = session_agreements::table
            .filter(session_agreements::id.eq_any(agreements))
            .select((session_agreements::id, session_agreements::text))
            .load(conn)?;
        names.extend(rows.into_iter().map(|(id, name)| (id.0, name)));
    }
    let cycles = of(LinkType::ImprovementCycle);
    if !cycles.is_empty() {
        use crate::schema::improvement_cycles;
        let rows: Vec<(DbUuid, String)> = improvement_cycles::table
            .filter(improvement_cycles::id.eq_any(cycles))
            .select((improvement_cycles::id, improvement_cycles::title))
            .load(conn)?;
        names.extend(rows.into_iter().map(|(id, name)| (id.0, name)));
    }
    let supported = of(LinkType::Supports);
    if !supported.is_empty() {
        let rows: Vec<(DbUuid, String)> = plan_items::table
            .filter(plan_items::id.eq_any(supported))
            .select((plan_items::id, plan_items::title))
            .load(conn)?;
        names.extend(rows.into_iter().map(|(id, name)| (id.0, name)));
    }
    Ok(names)
}

/// The item with this id among the plans the scope sees, with its plan.
pub fn find_item_anywhere(
    conn: &mut DbConnection,
    id: Uuid,
    scope: &TerritoryScope,
) -> QueryResult<Option<(ItemRow, PlanRow)>> {
    plan_items::table
        .inner_join(plans::table)
        .select((ItemRow::as_select(), PlanRow::as_select()))
        .filter(plan_items::id.eq(DbUuid(id)))
        .filter(scoped::within(plans::territory_path, scope))
        .first(conn)
        .optional()
}

/// Whether another plan of `kind` of the same owner (and, for a plan normativo, the same
/// plan) covers one of the years of `period`.
pub fn overlapping(
    conn: &mut DbConnection,
    kind: &str,
    owner: Option<Uuid>,
    normative_item: Option<DbUuid>,
    period: (i32, i32),
    except: Option<DbUuid>,
) -> QueryResult<bool> {
    let Some(owner) = owner else {
        return Ok(false);
    };
    let mut query = plans::table
        .filter(plans::kind.eq(kind.to_owned()))
        .filter(
            plans::school_id
                .eq(DbUuid(owner))
                .or(plans::organization_id.eq(DbUuid(owner))),
        )
        .filter(plans::period_from.le(period.1))
        .filter(plans::period_to.ge(period.0))
        .into_boxed();
    if let Some(item) = normative_item {
        query = query.filter(plans::normative_item_id.eq(item));
    }
    if let Some(except) = except {
        query = query.filter(plans::id.ne(except));
    }
    Ok(query
        .select(plans::id)
        .first::<DbUuid>(conn)
        .optional()?
        .is_some())
}

/// Whether the improvement cycle exists where the scope sees it.
pub fn improvement_cycle_visible(
    conn: &mut DbConnection,
    id: Uuid,
    scope: &TerritoryScope,
) -> QueryResult<bool> {
    Ok(crate::repository::improvement_cycles::find(conn, id, scope)?.is_some())
}

/// Whether a link names one of the school's improvement cycles: for deleting the school,
/// which takes its cycles with it.
pub fn links_to_cycles_of_school(conn: &mut DbConnection, school_id: Uuid) -> QueryResult<bool> {
    use crate::schema::improvement_cycles;
    let cycles = improvement_cycles::table
        .filter(improvement_cycles::school_id.eq(DbUuid(school_id)))
        .select(improvement_cycles::id.nullable());
    diesel::select(diesel::dsl::exists(
        plan_links::table.filter(plan_links::target_id.eq_any(cycles)),
    ))
    .get_result(conn)
}
