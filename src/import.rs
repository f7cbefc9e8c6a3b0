//! Bulk import of indicator values, shared by `POST /api/v1/indicator-values:import` and
//! `redes import indicators`: rows from JSON (value bodies), a generic CSV
//! (`indicator,org_unit,period,value[,…]`) or a published file read through a declared mapping
//! (`catalog/indicators/men-municipal.json`), each checked like a single write and applied with
//! a strategy, in one transaction.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::io::Read;

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::auth::TerritoryScope;
use crate::catalog::Catalogue;
use crate::db::{DbConnection, DbUuid, Tx};
use crate::error::{ApiError, ApiResult, Location};
use crate::i18n::Lang;
use crate::repository::indicators::{self as repo, IndicatorRow};
use crate::repository::schools::{self, OfficialCode};
use crate::repository::{UpdateOutcome, indicators::ValueRow};
use crate::routes::indicators::{OrgUnit, ValueInput, resolve_org_unit, validate_resolved};

pub const MEN_MUNICIPAL_JSON: &str = include_str!("../catalog/indicators/men-municipal.json");

/// What an import does with each row.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
#[schema(example = "create_and_update")]
pub enum ImportStrategy {
    /// Record new values; a value that exists is a conflict.
    Create,
    /// Change existing values; a missing one is a conflict.
    Update,
    /// Record new values and change existing ones (upsert).
    #[default]
    CreateAndUpdate,
    /// Delete the values the rows name; a missing one is ignored.
    Delete,
}

impl std::str::FromStr for ImportStrategy {
    type Err = ();
    fn from_str(s: &str) -> Result<Self, ()> {
        match s {
            "create" => Ok(ImportStrategy::Create),
            "update" => Ok(ImportStrategy::Update),
            "create_and_update" => Ok(ImportStrategy::CreateAndUpdate),
            "delete" => Ok(ImportStrategy::Delete),
            _ => Err(()),
        }
    }
}

pub const STRATEGIES: &[&str] = &["create", "update", "create_and_update", "delete"];

#[derive(Debug, Clone, Copy)]
pub struct ImportOptions {
    pub strategy: ImportStrategy,
    /// Check and count, write nothing.
    pub dry_run: bool,
    /// Any conflict → nothing written.
    pub atomic: bool,
}

impl Default for ImportOptions {
    fn default() -> Self {
        ImportOptions {
            strategy: ImportStrategy::CreateAndUpdate,
            dry_run: false,
            atomic: true,
        }
    }
}

/// A row that could not be imported.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[schema(example = json!({"row": 3, "column": "org_unit",
    "reason": "The territory is outside your token's territories."}))]
pub struct Conflict {
    /// The row in the file, from 1: for CSV the header is row 1; for JSON the first value is 1.
    pub row: u64,
    /// The column (CSV) or field (JSON) at fault, if one is.
    pub column: Option<String>,
    pub reason: String,
}

/// What an import did (or, on a dry run or an atomic import with conflicts, would have done).
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
#[schema(example = json!({"written": true, "imported": 42, "updated": 3, "ignored": 0,
    "deleted": 0, "conflicts": []}))]
pub struct ImportSummary {
    /// Whether anything was written: `false` on a dry run, and when an atomic import met
    /// conflicts.
    pub written: bool,
    /// Values recorded.
    pub imported: u64,
    /// Values changed.
    pub updated: u64,
    /// Rows that changed nothing: a value already equal, or a delete of a missing value.
    pub ignored: u64,
    /// Values deleted.
    pub deleted: u64,
    pub conflicts: Vec<Conflict>,
}

impl ImportSummary {
    /// Values (and unreadable rows) accounted for.
    pub fn counted(&self) -> u64 {
        self.imported + self.updated + self.ignored + self.deleted + self.conflicts.len() as u64
    }
}

/// The source columns a value came from, to name them in conflicts.
#[derive(Debug, Clone)]
pub struct Columns {
    pub indicator: String,
    pub org_unit: String,
    pub period: String,
    pub value: String,
    /// Where the disaggregation came from: its own column, or (a mapped file) the value's.
    pub disaggregation: String,
}

impl Columns {
    fn fields() -> Columns {
        Columns {
            indicator: "indicator".into(),
            org_unit: "org_unit".into(),
            period: "period".into(),
            value: "value".into(),
            disaggregation: "disaggregation".into(),
        }
    }

    fn of_pointer(&self, pointer: &str) -> Option<String> {
        let field = pointer.trim_start_matches('/');
        let field = field.split('/').next().unwrap_or(field);
        Some(match field {
            "indicator" => self.indicator.clone(),
            "org_unit" => self.org_unit.clone(),
            "period" => self.period.clone(),
            "value" => self.value.clone(),
            "disaggregation" => self.disaggregation.clone(),
            "" => return None,
            other => other.to_owned(),
        })
    }
}

/// One value to import, and where it came from.
#[derive(Debug, Clone)]
pub struct Record {
    pub row: u64,
    pub input: ValueInput,
    pub columns: Columns,
}

/// A row read, or why it could not be.
pub type Item = Result<Record, Conflict>;

fn conflict(row: u64, column: Option<&str>, reason: impl Into<String>) -> Conflict {
    Conflict {
        row,
        column: column.map(str::to_owned),
        reason: reason.into(),
    }
}

/// A header or a mapping's column name, as the open-data API mangles it: lowercase, then every
/// character outside `[a-z0-9]` replaced by `_` (`AÑO` → `a_o`).
pub fn normalise_header(name: &str) -> String {
    name.trim()
        .to_lowercase()
        .chars()
        .map(|c| {
            if c.is_ascii_lowercase() || c.is_ascii_digit() {
                c
            } else {
                '_'
            }
        })
        .collect()
}

/// A figure as published: `87.5`, `87,5`, `87.5%`; empty is `None`.
fn number(text: &str) -> Option<Result<f64, ()>> {
    let text = text.trim().trim_end_matches('%').trim();
    if text.is_empty() {
        return None;
    }
    let parsed = text
        .parse::<f64>()
        .or_else(|_| text.replace(',', ".").parse::<f64>())
        .map_err(|_| ());
    Some(parsed.and_then(|v| if v.is_finite() { Ok(v) } else { Err(()) }))
}

/// `level=primaria;sex=f`.
fn disaggregation(text: &str) -> Result<BTreeMap<String, String>, ()> {
    let mut categories = BTreeMap::new();
    for pair in text.split(';').map(str::trim).filter(|p| !p.is_empty()) {
        let (code, value) = pair.split_once('=').ok_or(())?;
        categories.insert(code.trim().to_owned(), value.trim().to_owned());
    }
    Ok(categories)
}

/// Values from a JSON array of value bodies, numbered from 1.
pub fn json_items(values: Vec<serde_json::Value>) -> impl Iterator<Item = Item> {
    values.into_iter().enumerate().map(|(i, value)| {
        let row = i as u64 + 1;
        serde_json::from_value::<ValueInput>(value)
            .map(|input| Record {
                row,
                input,
                columns: Columns::fields(),
            })
            .map_err(|e| conflict(row, None, format!("not a value body: {e}")))
    })
}

/// A declared mapping of a published file (`catalog/indicators/men-municipal.json`).
#[derive(Debug, Clone, Deserialize)]
pub struct MappingFile {
    pub code: String,
    pub country: String,
    pub source: Option<String>,
    pub period: MappedColumn,
    pub org_unit: OrgUnitColumn,
}

#[derive(Debug, Clone, Deserialize)]
pub struct MappedColumn {
    pub column: String,
}

#[derive(Debug, Clone, Deserialize)]
pub struct OrgUnitColumn {
    pub column: String,
    /// Cells that name the whole country.
    pub national: Vec<String>,
    pub national_unit: String,
}

/// One value column of a mapped file.
#[derive(Debug, Clone)]
struct ValueColumn {
    header: String,
    indicator: String,
    level: Option<String>,
}

/// A mapping with its value columns taken from the definitions' `mapping`.
#[derive(Debug, Clone)]
pub struct Mapping {
    file: MappingFile,
    columns: Vec<ValueColumn>,
}

impl Mapping {
    /// The mappings Redes ships, by code.
    pub fn builtin() -> anyhow::Result<Vec<Mapping>> {
        let file: MappingFile = serde_json::from_str(MEN_MUNICIPAL_JSON)?;
        let mut columns = Vec::new();
        for definition in repo::builtin()?.indicators {
            let Some(mapping) = definition.mapping else {
                continue;
            };
            if definition.country.as_deref() != Some(file.country.as_str()) {
                continue;
            }
            if let Some(column) = mapping.get("column").and_then(|c| c.as_str()) {
                columns.push(ValueColumn {
                    header: normalise_header(column),
                    indicator: definition.code.clone(),
                    level: None,
                });
            }
            if let Some(levels) = mapping.get("level_columns").and_then(|c| c.as_object()) {
                for (level, column) in levels {
                    if let Some(column) = column.as_str() {
                        columns.push(ValueColumn {
                            header: normalise_header(column),
                            indicator: definition.code.clone(),
                            level: Some(level.clone()),
                        });
                    }
                }
            }
        }
        Ok(vec![Mapping { file, columns }])
    }

    pub fn code(&self) -> &str {
        &self.file.code
    }

    /// Whether a header holds this mapping's period and org unit columns and a value column.
    fn matches(&self, headers: &[String]) -> bool {
        headers.contains(&normalise_header(&self.file.period.column))
            && headers.contains(&normalise_header(&self.file.org_unit.column))
            && self.columns.iter().any(|c| headers.contains(&c.header))
    }
}

/// How a CSV file's rows become values.
enum Layout {
    Generic(HashMap<&'static str, usize>),
    Mapped {
        mapping: Box<Mapping>,
        period: usize,
        org_unit: usize,
        values: Vec<(usize, ValueColumn)>,
    },
}

const GENERIC: &[&str] = &[
    "indicator",
    "org_unit",
    "period",
    "value",
    "numerator",
    "denominator",
    "disaggregation",
    "source",
    "comment",
];

/// Reads a CSV file as a stream and hands each value (or row problem) to `each`. The layout
/// is the named mapping, else a mapping whose columns the header has, else the generic one.
/// An unusable header is an error of the whole file.
pub fn csv_items<R: Read>(
    reader: R,
    mapping: Option<&str>,
    mut each: impl FnMut(Item) -> ApiResult<()>,
) -> ApiResult<()> {
    let mut csv = csv_reader(reader)?;
    let headers = csv_headers(&mut csv)?;
    let layout = layout(&headers, mapping)?;
    csv_rows(csv, &headers, &layout, &mut each)
}

/// Checks that a CSV file's header is usable (the generic columns, or a mapping's), as an
/// import would before its first row: for answering 422 before a job is accepted.
pub fn check_csv_header<R: Read>(reader: R, mapping: Option<&str>) -> ApiResult<()> {
    let mut csv = csv_reader(reader)?;
    let headers = csv_headers(&mut csv)?;
    layout(&headers, mapping).map(drop)
}

fn bad_file(detail: String) -> ApiError {
    ApiError::Validation(vec![file_issue(detail)])
}

/// A CSV reader over the file as UTF-8: UTF-8 (a byte-order mark dropped) or, failing that,
/// Windows-1252 / Latin-1.
fn csv_reader<R: Read>(reader: R) -> ApiResult<csv::Reader<crate::text_encoding::Utf8Reader<R>>> {
    let reader = crate::text_encoding::Utf8Reader::new(reader)
        .map_err(|e| bad_file(format!("unreadable file: {e}")))?;
    Ok(csv::ReaderBuilder::new()
        .flexible(true)
        .trim(csv::Trim::All)
        .from_reader(reader))
}

fn csv_headers<R: Read>(csv: &mut csv::Reader<R>) -> ApiResult<csv::StringRecord> {
    Ok(csv
        .headers()
        .map_err(|e| bad_file(format!("unreadable CSV header: {e}")))?
        .clone())
}

fn layout(headers: &csv::StringRecord, mapping: Option<&str>) -> ApiResult<Layout> {
    let names: Vec<String> = headers.iter().map(normalise_header).collect();
    let mappings = Mapping::builtin().map_err(ApiError::internal)?;
    let chosen = match mapping {
        Some(code) => Some(
            mappings
                .into_iter()
                .find(|m| m.code() == code)
                .ok_or_else(|| bad_file(format!("no mapping `{code}`")))?,
        ),
        None => mappings.into_iter().find(|m| m.matches(&names)),
    };
    let position = |name: &str| names.iter().position(|n| n == name);
    let layout = match chosen {
        Some(mapping) => {
            let period = position(&normalise_header(&mapping.file.period.column));
            let org_unit = position(&normalise_header(&mapping.file.org_unit.column));
            let (Some(period), Some(org_unit)) = (period, org_unit) else {
                return Err(bad_file(format!(
                    "the mapping `{}` needs the columns `{}` and `{}`",
                    mapping.code(),
                    mapping.file.period.column,
                    mapping.file.org_unit.column
                )));
            };
            let values = mapping
                .columns
                .iter()
                .filter_map(|c| position(&c.header).map(|i| (i, c.clone())))
                .collect();
            Layout::Mapped {
                mapping: Box::new(mapping),
                period,
                org_unit,
                values,
            }
        }
        None => {
            let found: HashMap<&'static str, usize> = GENERIC
                .iter()
                .filter_map(|name| position(name).map(|i| (*name, i)))
                .collect();
            let missing: Vec<&str> = GENERIC[..4]
                .iter()
                .filter(|n| !found.contains_key(*n))
                .copied()
                .collect();
            if !missing.is_empty() {
                return Err(bad_file(format!(
                    "the header lacks `{}` (and matches no mapping)",
                    missing.join("`, `")
                )));
            }
            Layout::Generic(found)
        }
    };
    Ok(layout)
}

fn csv_rows<R: Read>(
    mut csv: csv::Reader<R>,
    headers: &csv::StringRecord,
    layout: &Layout,
    each: &mut impl FnMut(Item) -> ApiResult<()>,
) -> ApiResult<()> {
    for (i, record) in csv.records().enumerate() {
        let row = i as u64 + 2;
        let record = match record {
            Ok(record) => record,
            Err(e) => {
                each(Err(conflict(row, None, format!("unreadable row: {e}"))))?;
                continue;
            }
        };
        // A NUL is no character of any figure, code or note (PostgreSQL's text cannot hold it).
        if let Some(column) = record.iter().position(|c| c.contains('\0')) {
            let name = headers.get(column).map(normalise_header);
            each(Err(conflict(row, name.as_deref(), "a NUL character")))?;
            continue;
        }
        let cell = |i: usize| record.get(i).unwrap_or("");
        match layout {
            Layout::Generic(at) => {
                let get = |name: &str| at.get(name).map(|&i| cell(i)).unwrap_or("");
                let optional = |name: &str| -> Result<Option<f64>, Conflict> {
                    number(get(name))
                        .transpose()
                        .map_err(|_| conflict(row, Some(name), "not a number"))
                };
                let text = |name: &str| Some(get(name).to_owned()).filter(|t| !t.is_empty());
                let item = (|| {
                    let value = match number(get("value")) {
                        Some(Ok(v)) => v,
                        // A delete names a value by its key alone.
                        None => 0.0,
                        Some(Err(())) => {
                            return Err(conflict(row, Some("value"), "not a number"));
                        }
                    };
                    let categories = disaggregation(get("disaggregation")).map_err(|_| {
                        conflict(
                            row,
                            Some("disaggregation"),
                            "not `category=value` pairs separated by `;`",
                        )
                    })?;
                    Ok(Record {
                        row,
                        input: ValueInput {
                            indicator: get("indicator").to_owned(),
                            org_unit: get("org_unit").to_owned(),
                            period: get("period").to_owned(),
                            disaggregation: Some(categories),
                            value,
                            numerator: optional("numerator")?,
                            denominator: optional("denominator")?,
                            source: text("source"),
                            comment: text("comment"),
                        },
                        columns: Columns::fields(),
                    })
                })();
                each(item)?;
            }
            Layout::Mapped {
                mapping,
                period,
                org_unit,
                values,
            } => {
                let file = &mapping.file;
                let unit = cell(*org_unit);
                let unit = if file
                    .org_unit
                    .national
                    .iter()
                    .any(|n| n.eq_ignore_ascii_case(unit))
                {
                    file.org_unit.national_unit.clone()
                } else {
                    unit.to_owned()
                };
                let year = cell(*period);
                // The declared period is a year: `2017`, or `2017.0` from a spreadsheet.
                let year = year.strip_suffix(".0").unwrap_or(year).to_owned();
                for (i, column) in values {
                    let header = headers.get(*i).unwrap_or_default();
                    let value = match number(cell(*i)) {
                        None => continue,
                        Some(Ok(v)) => v,
                        Some(Err(())) => {
                            each(Err(conflict(row, Some(header), "not a number")))?;
                            continue;
                        }
                    };
                    let disaggregation = column
                        .level
                        .iter()
                        .map(|l| ("level".to_owned(), l.clone()))
                        .collect();
                    each(Ok(Record {
                        row,
                        input: ValueInput {
                            indicator: column.indicator.clone(),
                            org_unit: unit.clone(),
                            period: year.clone(),
                            disaggregation: Some(disaggregation),
                            value,
                            numerator: None,
                            denominator: None,
                            source: file.source.clone(),
                            comment: None,
                        },
                        columns: Columns {
                            indicator: header.to_owned(),
                            org_unit: headers.get(*org_unit).unwrap_or_default().to_owned(),
                            period: headers.get(*period).unwrap_or_default().to_owned(),
                            value: header.to_owned(),
                            disaggregation: header.to_owned(),
                        },
                    }))?;
                }
            }
        }
    }
    Ok(())
}

fn file_issue(detail: String) -> crate::error::Issue {
    crate::error::Issue::body("", crate::error::IssueKind::InvalidBody { detail })
}

/// What an import reads: JSON value bodies, or a CSV file (with an optional mapping).
pub enum Source {
    Json(Vec<serde_json::Value>),
    /// Read as a stream: memory stays flat as the file grows.
    Csv(Box<dyn Read + Send>, Option<String>),
}

/// Runs an import of `source` in the transaction `tx`, telling `progress` how many values were
/// processed from time to time; answers the summary and whether to commit.
pub fn run(
    tx: &mut Tx<'_>,
    catalogue: &Catalogue,
    scope: &TerritoryScope,
    options: ImportOptions,
    source: Source,
    progress: &mut dyn FnMut(u64),
) -> ApiResult<(ImportSummary, bool)> {
    let mut importer = Importer::new(catalogue, scope, options);
    let mut next_report = PROGRESS_EVERY;
    let mut apply = |item: Item| {
        importer.apply(tx, item)?;
        let counted = importer.counted();
        if counted >= next_report {
            next_report = counted + PROGRESS_EVERY;
            progress(counted);
        }
        Ok(())
    };
    match source {
        Source::Json(values) => {
            for item in json_items(values) {
                apply(item)?;
            }
        }
        Source::Csv(reader, mapping) => csv_items(reader, mapping.as_deref(), apply)?,
    }
    let outcome = importer.finish(tx)?;
    progress(outcome.0.counted());
    Ok(outcome)
}

/// Values between two calls of a progress callback.
pub const PROGRESS_EVERY: u64 = 1_000;

/// Rows checked before their natural keys are looked up in one statement and their new values
/// inserted in multi-row statements.
const BATCH: usize = 1000;

/// A value's natural key: indicator, org unit, period, disaggregation.
type Key = (DbUuid, DbUuid, String, String);

fn key_of(row: &ValueRow) -> Key {
    (
        row.indicator_id,
        row.org_unit_id,
        row.period.clone(),
        row.disaggregation.clone(),
    )
}

/// A row checked, waiting for its batch.
struct Pending {
    row: u64,
    value_column: String,
    next: ValueRow,
}

/// Applies rows in one transaction, in batches: rows are checked one by one against
/// definitions and org units looked up once per import (cached), then each batch looks up the
/// existing values of its keys in one statement, inserts its new values in multi-row
/// statements and journals each write like a single one. A row whose key an earlier row of the
/// batch has sends the batch first, so a file sees its own writes.
pub struct Importer<'a> {
    catalogue: &'a Catalogue,
    scope: &'a TerritoryScope,
    options: ImportOptions,
    definitions: HashMap<String, Option<IndicatorRow>>,
    schools: HashMap<String, Option<String>>,
    units: HashMap<String, Option<OrgUnit>>,
    pending: Vec<Pending>,
    pending_keys: HashSet<Key>,
    /// Values imported at which to refresh the planner's statistics next.
    next_analyze: u64,
    summary: ImportSummary,
}

impl<'a> Importer<'a> {
    pub fn new(
        catalogue: &'a Catalogue,
        scope: &'a TerritoryScope,
        options: ImportOptions,
    ) -> Self {
        Importer {
            catalogue,
            scope,
            options,
            definitions: HashMap::new(),
            schools: HashMap::new(),
            units: HashMap::new(),
            pending: Vec::with_capacity(BATCH),
            pending_keys: HashSet::with_capacity(BATCH),
            next_analyze: 10_000,
            summary: ImportSummary::default(),
        }
    }

    /// Values (and unreadable rows) seen so far, for progress.
    pub fn counted(&self) -> u64 {
        self.summary.counted() + self.pending.len() as u64
    }

    /// Writes what is pending; answers the summary (conflicts in row order), and whether to
    /// commit.
    pub fn finish(mut self, tx: &mut Tx<'_>) -> ApiResult<(ImportSummary, bool)> {
        self.flush(tx)?;
        self.summary.conflicts.sort_by_key(|c| c.row);
        let keep =
            !self.options.dry_run && (!self.options.atomic || self.summary.conflicts.is_empty());
        self.summary.written = keep;
        Ok((self.summary, keep))
    }

    /// Checks one row and queues it; a row's problem is a conflict, a database failure an
    /// error.
    pub fn apply(&mut self, tx: &mut Tx<'_>, item: Item) -> ApiResult<()> {
        let record = match item {
            Ok(record) => record,
            Err(conflict) => {
                self.summary.conflicts.push(conflict);
                return Ok(());
            }
        };
        let Record {
            row,
            mut input,
            columns,
        } = record;
        let country = self.country_of(tx.conn(), &input.indicator)?;
        input.org_unit = self.org_unit(tx.conn(), &input.org_unit, country.as_deref())?;
        let unit = self.resolved(tx.conn(), &input.org_unit)?;
        let definition = self
            .definitions
            .get(&input.indicator)
            .and_then(Option::as_ref);
        let next = match validate_resolved(input, None, definition, unit.as_ref(), self.scope) {
            Ok(next) => next,
            // However the checks classify a problem, in an import it is the row's conflict.
            Err(
                ApiError::Validation(issues)
                | ApiError::ForeignTerritory(issues)
                | ApiError::UnknownReference(issues)
                | ApiError::DanglingReference(issues)
                | ApiError::Taken(issues)
                | ApiError::StateConflict(issues),
            ) => {
                for issue in issues {
                    let pointer = match &issue.location {
                        Location::Body(pointer) => pointer.as_str(),
                        _ => "",
                    };
                    self.summary.conflicts.push(Conflict {
                        row,
                        column: columns.of_pointer(pointer),
                        reason: issue.kind.message(Lang::En),
                    });
                }
                return Ok(());
            }
            Err(error) => return Err(error),
        };
        let key = key_of(&next);
        if self.pending_keys.contains(&key) {
            self.flush(tx)?;
        }
        self.pending_keys.insert(key);
        self.pending.push(Pending {
            row,
            value_column: columns.value,
            next,
        });
        if self.pending.len() >= BATCH {
            self.flush(tx)?;
        }
        Ok(())
    }

    /// Applies the batch: one lookup of its keys, then each row by the strategy.
    fn flush(&mut self, tx: &mut Tx<'_>) -> ApiResult<()> {
        let pending = std::mem::take(&mut self.pending);
        self.pending_keys.clear();
        if pending.is_empty() {
            return Ok(());
        }
        let rows: Vec<&ValueRow> = pending.iter().map(|p| &p.next).collect();
        let mut existing: HashMap<Key, ValueRow> = repo::find_by_keys(tx.conn(), &rows)?
            .into_iter()
            .map(|row| (key_of(&row), row))
            .collect();
        let mut inserts = Vec::new();
        for Pending {
            row,
            value_column,
            next,
        } in pending
        {
            let current = existing.remove(&key_of(&next));
            match (self.options.strategy, current) {
                (ImportStrategy::Delete, None) => self.summary.ignored += 1,
                (ImportStrategy::Delete, Some(current)) => {
                    match repo::delete_value(tx, &current)? {
                        UpdateOutcome::Done(()) => self.summary.deleted += 1,
                        UpdateOutcome::Concurrent => return Err(ApiError::ConcurrentChange),
                    }
                }
                (ImportStrategy::Create, Some(_)) => self.summary.conflicts.push(conflict(
                    row,
                    Some(&value_column),
                    "a value of this indicator, org unit, period and disaggregation exists",
                )),
                (ImportStrategy::Update, None) => self.summary.conflicts.push(conflict(
                    row,
                    Some(&value_column),
                    "no value of this indicator, org unit, period and disaggregation exists",
                )),
                (ImportStrategy::Create | ImportStrategy::CreateAndUpdate, None) => {
                    inserts.push(next);
                    self.summary.imported += 1;
                }
                (ImportStrategy::Update | ImportStrategy::CreateAndUpdate, Some(current)) => {
                    if same_figures(&current, &next) {
                        self.summary.ignored += 1;
                    } else {
                        match repo::update_value(tx, &current, &next)? {
                            UpdateOutcome::Done(_) => self.summary.updated += 1,
                            UpdateOutcome::Concurrent => return Err(ApiError::ConcurrentChange),
                        }
                    }
                }
            }
        }
        repo::insert_values(tx, &inserts)?;
        if self.summary.imported >= self.next_analyze {
            // PostgreSQL plans the batch lookups from statistics that never saw the rows this
            // transaction added (autovacuum cannot): a table that grew from nothing is taken
            // for tiny and scanned whole at every batch. ANALYZE counts our own uncommitted
            // rows; done as the table quadruples, it costs a few sampled reads in all.
            repo::analyze_values(tx.conn())?;
            self.next_analyze = self.summary.imported.saturating_mul(4);
        }
        Ok(())
    }

    /// The org unit a (normalised) reference names, looked up once per import.
    fn resolved(&mut self, conn: &mut DbConnection, reference: &str) -> ApiResult<Option<OrgUnit>> {
        if let Some(found) = self.units.get(reference) {
            return Ok(found.clone());
        }
        let found = resolve_org_unit(conn, self.catalogue, reference, self.scope)?;
        self.units.insert(reference.to_owned(), found.clone());
        Ok(found)
    }

    fn country_of(
        &mut self,
        conn: &mut DbConnection,
        indicator: &str,
    ) -> ApiResult<Option<String>> {
        if !self.definitions.contains_key(indicator) {
            let found = repo::find(conn, indicator)?;
            self.definitions.insert(indicator.to_owned(), found);
        }
        Ok(self
            .definitions
            .get(indicator)
            .and_then(|d| d.as_ref())
            .and_then(|d| d.country.clone()))
    }

    /// An org unit as a row names it, as `validate` reads it: a territory key or id stays;
    /// an official code becomes the territory's key (DIVIPOLA `05001` → `CO-05001`, `05` →
    /// `CO-05`; CUT `13101` or `9101` → `CL-13101`, `CL-09101`), in the indicator's country or,
    /// for the platform's indicators, the one country where it exists; `rbd:N` and `dane:N`
    /// (or a bare 12-digit DANE code) become the school's id.
    fn org_unit(
        &mut self,
        conn: &mut DbConnection,
        raw: &str,
        country: Option<&str>,
    ) -> ApiResult<String> {
        let raw = raw.trim();
        if self.catalogue.resolve_str(raw).is_some() {
            return Ok(raw.to_owned());
        }
        let lower = raw.to_ascii_lowercase();
        let school = if let Some(rbd) = lower.strip_prefix("rbd:") {
            rbd.trim().parse::<i32>().ok().map(OfficialCode::Rbd)
        } else if let Some(dane) = lower.strip_prefix("dane:") {
            Some(OfficialCode::Dane(dane.trim().to_owned()))
        } else if raw.len() == 12 && raw.bytes().all(|b| b.is_ascii_digit()) {
            Some(OfficialCode::Dane(raw.to_owned()))
        } else {
            None
        };
        if let Some(code) = school {
            if let Some(found) = self.schools.get(&lower) {
                return Ok(found.clone().unwrap_or_else(|| raw.to_owned()));
            }
            let found = schools::find_by_code(conn, &code, self.scope)?.map(|s| s.id.0.to_string());
            self.schools.insert(lower, found.clone());
            return Ok(found.unwrap_or_else(|| raw.to_owned()));
        }
        let digits = raw.strip_suffix(".0").unwrap_or(raw);
        if digits.is_empty() || digits.len() > 5 || !digits.bytes().all(|b| b.is_ascii_digit()) {
            return Ok(raw.to_owned());
        }
        let keys = |prefix: &str| -> Option<String> {
            let key = if digits.len() <= 2 {
                format!("{prefix}-{digits:0>2}")
            } else {
                format!("{prefix}-{digits:0>5}")
            };
            self.catalogue.resolve_str(&key).map(|_| key)
        };
        let found = match country {
            Some(country) => keys(country),
            None => match (keys("CL"), keys("CO")) {
                (Some(key), None) | (None, Some(key)) => Some(key),
                _ => None,
            },
        };
        Ok(found.unwrap_or_else(|| raw.to_owned()))
    }
}

fn same_figures(current: &ValueRow, next: &ValueRow) -> bool {
    current.value == next.value
        && current.numerator == next.numerator
        && current.denominator == next.denominator
        && current.source == next.source
        && current.comment == next.comment
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn headers_normalise_as_the_open_data_export_mangles_them() {
        assert_eq!(normalise_header("AÑO"), "a_o");
        assert_eq!(normalise_header("CÓDIGO_MUNICIPIO"), "c_digo_municipio");
        assert_eq!(normalise_header("DESERCIÓN"), "deserci_n");
        assert_eq!(normalise_header("a_o"), "a_o");
    }

    #[test]
    fn figures_and_disaggregations_read_as_published() {
        assert_eq!(number("87.5"), Some(Ok(87.5)));
        assert_eq!(number("87,5"), Some(Ok(87.5)));
        assert_eq!(number("  "), None);
        assert_eq!(number("x"), Some(Err(())));
        let d = disaggregation("level=primaria;sex=f").unwrap();
        assert_eq!(d.get("level").map(String::as_str), Some("primaria"));
        assert!(disaggregation("level").is_err());
    }

    #[test]
    fn the_men_mapping_declares_every_mapped_indicator() {
        let mappings = Mapping::builtin().unwrap();
        let men = &mappings[0];
        assert_eq!(men.code(), "men-municipal");
        assert!(
            men.columns
                .iter()
                .any(|c| c.header == "cobertura_neta_primaria"
                    && c.indicator == "CO_COBERTURA_NETA"
                    && c.level.as_deref() == Some("primaria"))
        );
    }
}
