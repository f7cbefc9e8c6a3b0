//! Territorial scope: the subtrees of the territory catalogue a principal may act in.
//!
//! Every resource row stores the path of its territory (`/CL/CL-13/CL-131/CL-13101/`). A scope is
//! a set of path prefixes, and "in scope" is a range condition on that column inside the query
//! (`repository::scoped`), never a check after fetching. The same scope decides in memory whether
//! a territory named in a request body may be written to.

use std::sync::Arc;

use super::Principal;
use crate::catalog::CatalogueEntry;
use crate::domain::territory::Country;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TerritoryScope {
    /// Paths of the subtree roots, with roots inside other roots removed (shared: a principal
    /// keeps its scope, and every request of the principal clones it).
    roots: Arc<[String]>,
}

impl TerritoryScope {
    pub fn of(principal: &Principal) -> TerritoryScope {
        principal.territory_scope.clone()
    }

    pub fn from_paths(paths: impl IntoIterator<Item = String>) -> TerritoryScope {
        let mut paths: Vec<String> = paths.into_iter().collect();
        paths.sort();
        let mut roots: Vec<String> = Vec::new();
        for path in paths {
            if !roots.iter().any(|root| path.starts_with(root.as_str())) {
                roots.push(path);
            }
        }
        TerritoryScope {
            roots: roots.into(),
        }
    }

    /// The paths of the subtree roots.
    pub fn roots(&self) -> &[String] {
        &self.roots
    }

    /// A principal without territories sees and changes nothing.
    pub fn is_empty(&self) -> bool {
        self.roots.is_empty()
    }

    pub fn contains_path(&self, path: &str) -> bool {
        self.roots
            .iter()
            .any(|root| path.starts_with(root.as_str()))
    }

    /// Whether one of the roots is a whole country (`/CL/`): such principals also read what lies
    /// outside the territory tree (the audit of indicator definitions, of API clients).
    pub fn holds_a_country(&self) -> bool {
        self.roots.iter().any(|root| root.matches('/').count() == 2)
    }

    /// Whether the roots include every country Redes serves: then every territory is in scope.
    pub fn holds_every_country(&self) -> bool {
        Country::ALL.iter().all(|country| {
            self.roots
                .iter()
                .any(|root| root == &format!("/{}/", country.as_str()))
        })
    }

    pub fn contains(&self, territory: &CatalogueEntry) -> bool {
        self.contains_path(&territory.path)
    }

    /// `[lower, upper)` byte ranges of paths in scope: a path is in the subtree of `/CL/CL-13/`
    /// when it is at least that and less than `/CL/CL-130` (`0` is the byte after `/`).
    pub fn ranges(&self) -> Vec<(String, String)> {
        self.roots
            .iter()
            .map(|root| (root.clone(), subtree_upper_bound(root)))
            .collect()
    }
}

/// The exclusive upper bound of the paths in the subtree rooted at `path` (which ends in `/`).
pub fn subtree_upper_bound(path: &str) -> String {
    let mut upper = path.trim_end_matches('/').to_owned();
    upper.push('0');
    upper
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_country_is_held_only_with_both_roots() {
        let both = TerritoryScope::from_paths(["/CO/".to_owned(), "/CL/".to_owned()]);
        assert!(both.holds_every_country());
        let one = TerritoryScope::from_paths(["/CL/".to_owned(), "/CO/CO-11/".to_owned()]);
        assert!(!one.holds_every_country());
        assert!(!TerritoryScope::from_paths(Vec::new()).holds_every_country());
    }

    #[test]
    fn nested_roots_collapse_and_ranges_bound_subtrees() {
        let scope = TerritoryScope::from_paths([
            "/CL/CL-13/CL-131/".to_owned(),
            "/CL/CL-13/".to_owned(),
            "/CO/CO-11/".to_owned(),
        ]);
        assert_eq!(
            scope.ranges(),
            vec![
                ("/CL/CL-13/".to_owned(), "/CL/CL-130".to_owned()),
                ("/CO/CO-11/".to_owned(), "/CO/CO-110".to_owned()),
            ]
        );
        assert!(scope.contains_path("/CL/CL-13/CL-131/CL-13101/"));
        assert!(!scope.contains_path("/CL/CL-14/"));
        assert!(!scope.contains_path("/CL/"));
        assert!(TerritoryScope::from_paths(Vec::new()).is_empty());
        assert!(!scope.holds_a_country());
        assert!(TerritoryScope::from_paths(["/CO/".to_owned()]).holds_a_country());
    }
}
