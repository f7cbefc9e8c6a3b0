//! The territory catalogue: Chile's CUT and Colombia's DIVIPOLA, shipped as CSV files in
//! `catalog/territories/` (their sources are in the README there) and embedded in the binary so
//! that Redes runs from any directory.
//!
//! At start-up the catalogue is written to the `territories` table (see
//! `repository::territories::sync_catalogue`), which queries join against. The parsed catalogue
//! also stays in memory to resolve the territory keys and ids that clients and tokens name,
//! without a query: it is immutable reference data compiled into the binary, and the table holds
//! exactly the same rows.

use std::collections::HashMap;
use std::fmt::Write as _;

use serde::Deserialize;
use sha2::{Digest, Sha256};
use uuid::Uuid;

use crate::domain::{Country, TerritoryKey, TerritoryLevel, TerritoryRef};

const CHILE_CSV: &str = include_str!("../catalog/territories/cl.csv");
const COLOMBIA_CSV: &str = include_str!("../catalog/territories/co.csv");
/// Bump when the way rows are derived from the files changes, so installations reload them.
const LOADER_VERSION: &str = "1";

/// One territory of the catalogue.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CatalogueEntry {
    pub id: Uuid,
    pub key: TerritoryKey,
    pub level: TerritoryLevel,
    pub name: String,
    pub parent: Option<TerritoryKey>,
    /// The keys from the root down to this territory: `/CL/CL-13/CL-131/CL-13101/`. A subtree
    /// is every path that starts with its root's path.
    pub path: String,
}

impl CatalogueEntry {
    pub fn country(&self) -> Country {
        self.key.country()
    }

    pub fn depth(&self) -> i16 {
        self.level.depth()
    }

    /// Whether `other` is this territory or lies below it.
    pub fn contains(&self, other: &CatalogueEntry) -> bool {
        other.path.starts_with(&self.path)
    }
}

/// The parsed catalogue, parents always before their children.
#[derive(Debug)]
pub struct Catalogue {
    entries: Vec<CatalogueEntry>,
    by_key: HashMap<String, usize>,
    by_id: HashMap<Uuid, usize>,
    checksum: String,
}

#[derive(Debug, thiserror::Error)]
#[error("territory catalogue, {file} line {line}: {reason}")]
pub struct CatalogueError {
    file: &'static str,
    line: u64,
    reason: String,
}

#[derive(Deserialize)]
struct Row {
    level: String,
    code: String,
    name: String,
    parent_code: String,
}

impl Catalogue {
    /// The catalogue compiled into this binary.
    pub fn embedded() -> Result<Catalogue, CatalogueError> {
        Catalogue::parse(&[
            (Country::Cl, "cl.csv", CHILE_CSV),
            (Country::Co, "co.csv", COLOMBIA_CSV),
        ])
    }

    fn parse(sources: &[(Country, &'static str, &str)]) -> Result<Catalogue, CatalogueError> {
        let mut catalogue = Catalogue {
            entries: Vec::new(),
            by_key: HashMap::new(),
            by_id: HashMap::new(),
            checksum: String::new(),
        };
        let mut hasher = Sha256::new();
        hasher.update(LOADER_VERSION.as_bytes());
        for (country, file, text) in sources {
            hasher.update(text.as_bytes());
            let root = TerritoryKey::country_root(*country);
            catalogue.insert(CatalogueEntry {
                id: root.id(),
                path: format!("/{root}/"),
                key: root,
                level: TerritoryLevel::Country,
                name: country.name().to_owned(),
                parent: None,
            });
            let mut reader = csv::Reader::from_reader(text.as_bytes());
            let headers = reader
                .headers()
                .map_err(|e| CatalogueError {
                    file,
                    line: 1,
                    reason: e.to_string(),
                })?
                .clone();
            for record in reader.records() {
                let error = |line: u64, reason: String| CatalogueError { file, line, reason };
                let record = record.map_err(|e| {
                    let line = e.position().map_or(0, |p| p.line());
                    error(line, e.to_string())
                })?;
                let line = record.position().map_or(0, |p| p.line());
                let row: Row = record
                    .deserialize(Some(&headers))
                    .map_err(|e| error(line, e.to_string()))?;
                let key = TerritoryKey::from_code(*country, &row.code)
                    .map_err(|_| error(line, format!("`{}` is not a valid code", row.code)))?;
                if key.level().as_str() != row.level {
                    return Err(error(
                        line,
                        format!("code {} is not at level {}", row.code, row.level),
                    ));
                }
                let parent = key
                    .parent()
                    .ok_or_else(|| error(line, "a country row in a country file".into()))?;
                let expected_parent_code = match parent.level() {
                    TerritoryLevel::Country => "",
                    _ => parent.code(),
                };
                if row.parent_code != expected_parent_code {
                    return Err(error(
                        line,
                        format!(
                            "parent_code {} does not prefix {}",
                            row.parent_code, row.code
                        ),
                    ));
                }
                let parent_path = catalogue
                    .resolve_key(&parent)
                    .map(|p| p.path.clone())
                    .ok_or_else(|| {
                        error(line, format!("parent {parent} comes later or not at all"))
                    })?;
                let name = row.name.trim().to_owned();
                if name.is_empty() {
                    return Err(error(line, "empty name".into()));
                }
                if catalogue.by_key.contains_key(key.as_str()) {
                    return Err(error(line, format!("{key} appears twice")));
                }
                catalogue.insert(CatalogueEntry {
                    id: key.id(),
                    path: format!("{parent_path}{key}/"),
                    level: key.level(),
                    key,
                    name,
                    parent: Some(parent),
                });
            }
        }
        let digest = hasher.finalize();
        catalogue.checksum = digest.iter().fold(String::new(), |mut hex, byte| {
            let _ = write!(hex, "{byte:02x}");
            hex
        });
        Ok(catalogue)
    }

    fn insert(&mut self, entry: CatalogueEntry) {
        let index = self.entries.len();
        self.by_key.insert(entry.key.as_str().to_owned(), index);
        self.by_id.insert(entry.id, index);
        self.entries.push(entry);
    }

    /// Every territory, parents before children.
    pub fn entries(&self) -> &[CatalogueEntry] {
        &self.entries
    }

    /// Identifies this exact catalogue (files and loader version).
    pub fn checksum(&self) -> &str {
        &self.checksum
    }

    pub fn resolve_key(&self, key: &TerritoryKey) -> Option<&CatalogueEntry> {
        self.by_key.get(key.as_str()).map(|&i| &self.entries[i])
    }

    pub fn resolve(&self, reference: &TerritoryRef) -> Option<&CatalogueEntry> {
        match reference {
            TerritoryRef::Key(key) => self.resolve_key(key),
            TerritoryRef::Id(id) => self.by_id.get(id).map(|&i| &self.entries[i]),
        }
    }

    /// Resolves a key (`CL-13101`) or an id as a client wrote it.
    pub fn resolve_str(&self, reference: &str) -> Option<&CatalogueEntry> {
        TerritoryRef::parse(reference)
            .ok()
            .and_then(|r| self.resolve(&r))
    }

    pub fn count(&self, level: TerritoryLevel) -> usize {
        self.entries.iter().filter(|e| e.level == level).count()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn embedded_catalogue_has_the_official_counts() {
        let catalogue = Catalogue::embedded().unwrap();
        assert_eq!(catalogue.count(TerritoryLevel::Country), 2);
        assert_eq!(catalogue.count(TerritoryLevel::Region), 16);
        assert_eq!(catalogue.count(TerritoryLevel::Provincia), 56);
        assert_eq!(catalogue.count(TerritoryLevel::Comuna), 346);
        assert_eq!(catalogue.count(TerritoryLevel::Departamento), 33);
        assert_eq!(catalogue.count(TerritoryLevel::Municipio), 1121);
    }

    #[test]
    fn well_known_territories_resolve_with_their_paths() {
        let catalogue = Catalogue::embedded().unwrap();
        let santiago = catalogue.resolve_str("CL-13101").unwrap();
        assert_eq!(santiago.name, "Santiago");
        assert_eq!(santiago.path, "/CL/CL-13/CL-131/CL-13101/");
        assert_eq!(santiago.parent.as_ref().map(|p| p.as_str()), Some("CL-131"));
        let by_id = catalogue.resolve_str(&santiago.id.to_string()).unwrap();
        assert_eq!(by_id.key, santiago.key);
        let bogota = catalogue.resolve_str("CO-11001").unwrap();
        assert_eq!(bogota.path, "/CO/CO-11/CO-11001/");
        assert!(catalogue.resolve_str("CO").unwrap().contains(bogota));
        assert!(!catalogue.resolve_str("CL").unwrap().contains(bogota));
        assert_eq!(catalogue.resolve_str("CL-16101").unwrap().name, "Chillán");
        assert_eq!(catalogue.resolve_str("CO-05001").unwrap().name, "Medellín");
        assert!(catalogue.resolve_str("CL-99").is_none());
    }

    #[test]
    fn malformed_files_are_refused_with_their_line() {
        let bad_parent =
            "level,code,name,parent_code\nregion,13,Metropolitana,\nprovincia,131,Santiago,14\n";
        let error = Catalogue::parse(&[(Country::Cl, "t.csv", bad_parent)]).unwrap_err();
        assert_eq!(error.line, 3, "{error}");
        let bad_level = "level,code,name,parent_code\ncomuna,13,Metropolitana,\n";
        assert!(Catalogue::parse(&[(Country::Cl, "t.csv", bad_level)]).is_err());
        let orphan = "level,code,name,parent_code\nprovincia,131,Santiago,13\n";
        assert!(Catalogue::parse(&[(Country::Cl, "t.csv", orphan)]).is_err());
    }
}
