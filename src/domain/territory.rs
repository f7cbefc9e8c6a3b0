//! Territories: countries and their official administrative divisions.
//!
//! Chile uses the Código Único Territorial (CUT): región (2 digits), provincia (3) and comuna
//! (5), each code beginning with its parent's. Colombia uses DANE's DIVIPOLA: departamento (2
//! digits) and municipio (5), likewise nested. A territory's *key* is the country's ISO 3166-1
//! code, a dash and the official code (`CL-13101`, `CO-11001`), or the bare country (`CL`), so
//! keys are unique across countries even where codes collide (`CL-05` is Valparaíso, `CO-05`
//! Antioquia).

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

/// The namespace of territory ids: a territory's id is the UUIDv5 of its key in it, so the same
/// territory has the same id in every installation of Redes.
const TERRITORY_NAMESPACE: Uuid = Uuid::from_u128(0x8fbe4bd1_e921_4d47_ba61_09d0e6b85145);

/// A country Redes serves (ISO 3166-1 alpha-2).
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, ToSchema,
)]
#[schema(example = "CL")]
pub enum Country {
    /// Chile.
    #[serde(rename = "CL")]
    Cl,
    /// Colombia.
    #[serde(rename = "CO")]
    Co,
}

impl Country {
    pub const ALL: [Country; 2] = [Country::Cl, Country::Co];
    pub const NAMES: &'static [&'static str] = &["CL", "CO"];

    pub fn as_str(self) -> &'static str {
        match self {
            Country::Cl => "CL",
            Country::Co => "CO",
        }
    }

    /// The country's name in Spanish, as the root of its territory tree.
    pub fn name(self) -> &'static str {
        match self {
            Country::Cl => "Chile",
            Country::Co => "Colombia",
        }
    }

    /// The levels below the country, from the top.
    pub fn levels(self) -> &'static [TerritoryLevel] {
        match self {
            Country::Cl => &[
                TerritoryLevel::Region,
                TerritoryLevel::Provincia,
                TerritoryLevel::Comuna,
            ],
            Country::Co => &[TerritoryLevel::Departamento, TerritoryLevel::Municipio],
        }
    }
}

impl fmt::Display for Country {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Country {
    type Err = ();

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Country::ALL.into_iter().find(|c| c.as_str() == s).ok_or(())
    }
}

/// The level of a territory in its country's tree.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
#[schema(example = "comuna")]
pub enum TerritoryLevel {
    /// The country itself, root of its tree (*país*).
    Country,
    /// Chile: *región* (16 since the creation of Ñuble in 2018), CUT code of 2 digits.
    Region,
    /// Chile: *provincia* (56), CUT code of 3 digits.
    Provincia,
    /// Chile: *comuna* (346), CUT code of 5 digits.
    Comuna,
    /// Colombia: *departamento* (32 and Bogotá, D.C.), DIVIPOLA code of 2 digits.
    Departamento,
    /// Colombia: *municipio*, DIVIPOLA code of 5 digits.
    Municipio,
}

impl TerritoryLevel {
    pub const ALL: [TerritoryLevel; 6] = [
        TerritoryLevel::Country,
        TerritoryLevel::Region,
        TerritoryLevel::Provincia,
        TerritoryLevel::Comuna,
        TerritoryLevel::Departamento,
        TerritoryLevel::Municipio,
    ];
    pub const NAMES: &'static [&'static str] = &[
        "country",
        "region",
        "provincia",
        "comuna",
        "departamento",
        "municipio",
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            TerritoryLevel::Country => "country",
            TerritoryLevel::Region => "region",
            TerritoryLevel::Provincia => "provincia",
            TerritoryLevel::Comuna => "comuna",
            TerritoryLevel::Departamento => "departamento",
            TerritoryLevel::Municipio => "municipio",
        }
    }

    /// Distance from the country (the root is 0).
    pub fn depth(self) -> i16 {
        match self {
            TerritoryLevel::Country => 0,
            TerritoryLevel::Region | TerritoryLevel::Departamento => 1,
            TerritoryLevel::Provincia | TerritoryLevel::Municipio => 2,
            TerritoryLevel::Comuna => 3,
        }
    }

    /// The country whose tree has this level; `None` for the country level, which every tree has.
    pub fn country(self) -> Option<Country> {
        match self {
            TerritoryLevel::Country => None,
            TerritoryLevel::Region | TerritoryLevel::Provincia | TerritoryLevel::Comuna => {
                Some(Country::Cl)
            }
            TerritoryLevel::Departamento | TerritoryLevel::Municipio => Some(Country::Co),
        }
    }

    /// The number of digits of an official code at this level.
    pub fn code_len(self) -> usize {
        match self {
            TerritoryLevel::Country => 0,
            TerritoryLevel::Region | TerritoryLevel::Departamento => 2,
            TerritoryLevel::Provincia => 3,
            TerritoryLevel::Comuna | TerritoryLevel::Municipio => 5,
        }
    }

    fn for_code(country: Country, code: &str) -> Option<TerritoryLevel> {
        country
            .levels()
            .iter()
            .copied()
            .find(|level| level.code_len() == code.len())
    }
}

impl fmt::Display for TerritoryLevel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for TerritoryLevel {
    type Err = ();

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        TerritoryLevel::ALL
            .into_iter()
            .find(|l| l.as_str() == s)
            .ok_or(())
    }
}

/// A well-formed territory key: `CL`, `CL-13`, `CL-131`, `CL-13101`, `CO`, `CO-11`, `CO-11001`.
///
/// Well-formed does not mean existing: `CL-99` parses, and the catalogue says it is unknown.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TerritoryKey(String);

/// Why a string is not a territory key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("not a territory key")]
pub struct InvalidTerritoryKey;

impl TerritoryKey {
    pub fn country_root(country: Country) -> Self {
        TerritoryKey(country.as_str().to_owned())
    }

    /// The key of the territory with this official code in this country, if the code has the
    /// length of one of the country's levels.
    pub fn from_code(country: Country, code: &str) -> Result<Self, InvalidTerritoryKey> {
        if code.chars().all(|c| c.is_ascii_digit())
            && TerritoryLevel::for_code(country, code).is_some()
        {
            Ok(TerritoryKey(format!("{country}-{code}")))
        } else {
            Err(InvalidTerritoryKey)
        }
    }

    /// Parses a key exactly as [`TERRITORY_KEY_PATTERN`] describes it (upper case, no spaces).
    pub fn parse(input: &str) -> Result<Self, InvalidTerritoryKey> {
        match input.split_once('-') {
            None => input
                .parse::<Country>()
                .map(TerritoryKey::country_root)
                .map_err(|()| InvalidTerritoryKey),
            Some((country, code)) => {
                let country = country
                    .parse::<Country>()
                    .map_err(|()| InvalidTerritoryKey)?;
                TerritoryKey::from_code(country, code)
            }
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn country(&self) -> Country {
        if self.0.starts_with("CO") {
            Country::Co
        } else {
            Country::Cl
        }
    }

    /// The official code: `13101` for `CL-13101`, the country code for a country.
    pub fn code(&self) -> &str {
        self.0
            .split_once('-')
            .map_or(self.0.as_str(), |(_, code)| code)
    }

    pub fn level(&self) -> TerritoryLevel {
        match self.0.split_once('-') {
            None => TerritoryLevel::Country,
            // The constructors only admit codes whose length names a level.
            Some((_, code)) => {
                TerritoryLevel::for_code(self.country(), code).unwrap_or(TerritoryLevel::Country)
            }
        }
    }

    /// The key of the parent territory, derived from the nesting of official codes; `None` for a
    /// country.
    pub fn parent(&self) -> Option<TerritoryKey> {
        let country = self.country();
        let level = self.level();
        let levels = country.levels();
        let position = levels.iter().position(|l| *l == level)?;
        match position.checked_sub(1) {
            None => Some(TerritoryKey::country_root(country)),
            Some(parent) => {
                let code = &self.code()[..levels[parent].code_len()];
                Some(TerritoryKey(format!("{country}-{code}")))
            }
        }
    }

    /// The territory's stable id (see [`TERRITORY_NAMESPACE`]).
    pub fn id(&self) -> Uuid {
        Uuid::new_v5(&TERRITORY_NAMESPACE, self.0.as_bytes())
    }
}

impl fmt::Display for TerritoryKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// The path of the first-level division (región, departamento) a path lies in: `/CL/CL-13/` for
/// `/CL/CL-13/CL-131/CL-13101/`; a country's path is its own. Stored beside a school's path so
/// that a list filtered by región walks one index in name order (the migration
/// `schools_region` computes the same prefix in SQL).
pub fn region_path(path: &str) -> &str {
    path.char_indices()
        .filter(|(_, c)| *c == '/')
        .nth(2)
        .map_or(path, |(at, _)| &path[..=at])
}

/// A UUID in its hyphenated form only (`8-4-4-4-12` hex digits, either case), as JSON Schema's
/// `uuid` format has it; the other forms the `uuid` crate accepts (simple, braced, URN) are not
/// what the contract documents.
pub fn parse_uuid(input: &str) -> Option<Uuid> {
    let bytes = input.as_bytes();
    let well_formed = bytes.len() == 36
        && bytes.iter().enumerate().all(|(i, b)| match i {
            8 | 13 | 18 | 23 => *b == b'-',
            _ => b.is_ascii_hexdigit(),
        });
    if well_formed {
        Uuid::try_parse(input).ok()
    } else {
        None
    }
}

const UUID_PATTERN: &str =
    "[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}";

/// The documented form of territory keys (what [`TerritoryKey::parse`] accepts).
pub const TERRITORY_KEY_PATTERN: &str =
    "^(CL(-([0-9]{2}|[0-9]{3}|[0-9]{5}))?|CO(-([0-9]{2}|[0-9]{5}))?)$";

/// The documented form of the patterns of territory references, by the levels they may name:
/// a key of those levels, or any id.
pub fn territory_ref_pattern(levels: &[TerritoryLevel]) -> String {
    let mut alternatives: Vec<String> = Vec::new();
    for country in Country::ALL {
        let codes: Vec<String> = levels
            .iter()
            .filter(|l| l.country() == Some(country))
            .map(|l| format!("[0-9]{{{}}}", l.code_len()))
            .collect();
        if levels.contains(&TerritoryLevel::Country) {
            alternatives.push(country.as_str().to_owned());
        }
        if !codes.is_empty() {
            alternatives.push(format!("{country}-({})", codes.join("|")));
        }
    }
    alternatives.push(UUID_PATTERN.to_owned());
    format!("^({})$", alternatives.join("|"))
}

/// Any territory, by key or id.
pub fn any_territory_pattern() -> String {
    territory_ref_pattern(&TerritoryLevel::ALL)
}

/// How a client names a territory: by id (a UUID) or by key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TerritoryRef {
    Id(Uuid),
    Key(TerritoryKey),
}

impl TerritoryRef {
    /// Parses a reference exactly as [`TERRITORY_REF_PATTERN`] describes it.
    pub fn parse(input: &str) -> Result<Self, InvalidTerritoryKey> {
        // A key is at most 8 characters and never parses as a UUID, so the order is unambiguous.
        if input.len() == 36 {
            return parse_uuid(input)
                .map(TerritoryRef::Id)
                .ok_or(InvalidTerritoryKey);
        }
        TerritoryKey::parse(input).map(TerritoryRef::Key)
    }

    /// The id this reference names (a key's id is derived from it, see [`TerritoryKey::id`]).
    pub fn id(&self) -> Uuid {
        match self {
            TerritoryRef::Id(id) => *id,
            TerritoryRef::Key(key) => key.id(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn region_path_is_the_prefix_down_to_the_first_level() {
        assert_eq!(region_path("/CL/CL-13/CL-131/CL-13101/"), "/CL/CL-13/");
        assert_eq!(region_path("/CO/CO-05/CO-05001/"), "/CO/CO-05/");
        assert_eq!(region_path("/CL/CL-13/"), "/CL/CL-13/");
        assert_eq!(region_path("/CL/"), "/CL/");
    }

    #[test]
    fn keys_parse_to_their_levels_and_codes() {
        let cases = [
            ("CL", TerritoryLevel::Country, "CL"),
            ("CL-13", TerritoryLevel::Region, "13"),
            ("CL-131", TerritoryLevel::Provincia, "131"),
            ("CL-13101", TerritoryLevel::Comuna, "13101"),
            ("CO", TerritoryLevel::Country, "CO"),
            ("CO-11", TerritoryLevel::Departamento, "11"),
            ("CO-11001", TerritoryLevel::Municipio, "11001"),
        ];
        for (input, level, code) in cases {
            let key = TerritoryKey::parse(input).unwrap();
            assert_eq!(key.level(), level, "{input}");
            assert_eq!(key.code(), code, "{input}");
        }
        assert!(
            TerritoryKey::parse("cl-13101").is_err(),
            "keys are upper case"
        );
        assert!(TerritoryKey::parse(" CL-13").is_err(), "and have no spaces");
    }

    #[test]
    fn malformed_keys_are_rejected() {
        for input in [
            "",
            "-",
            "CL-",
            "CL-1",
            "CL-1310",
            "CL-131011",
            "CO-131",
            "AR-01",
            "CL-13a",
            "CL_13",
            "CL-13-1",
            "CL--13",
            "CL-١٣",
        ] {
            assert!(
                TerritoryKey::parse(input).is_err(),
                "{input:?} should be rejected"
            );
        }
    }

    #[test]
    fn parents_follow_the_nesting_of_codes() {
        let parent = |k: &str| {
            TerritoryKey::parse(k)
                .unwrap()
                .parent()
                .map(|p| p.to_string())
        };
        assert_eq!(parent("CL-13101").as_deref(), Some("CL-131"));
        assert_eq!(parent("CL-131").as_deref(), Some("CL-13"));
        assert_eq!(parent("CL-13").as_deref(), Some("CL"));
        assert_eq!(parent("CL"), None);
        assert_eq!(parent("CO-11001").as_deref(), Some("CO-11"));
        assert_eq!(parent("CO-11").as_deref(), Some("CO"));
    }

    #[test]
    fn ids_are_stable_and_refs_accept_both_forms() {
        let key = TerritoryKey::parse("CL-13101").unwrap();
        assert_eq!(key.id(), TerritoryKey::parse("CL-13101").unwrap().id());
        assert_ne!(
            key.id(),
            TerritoryKey::parse("CO-13101")
                .map(|k| k.id())
                .unwrap_or_default()
        );
        let by_id = TerritoryRef::parse(&key.id().to_string()).unwrap();
        assert_eq!(by_id, TerritoryRef::Id(key.id()));
        assert_eq!(TerritoryRef::parse("CL-13101").unwrap().id(), key.id());
        assert!(TerritoryRef::parse("not-a-territory").is_err());
        assert!(TerritoryRef::parse("00000000-0000-0000-0000-00000000000g").is_err());
        let simple = key.id().simple().to_string();
        assert!(
            TerritoryRef::parse(&simple).is_err(),
            "only the hyphenated form"
        );
    }

    #[test]
    fn the_documented_patterns_accept_exactly_what_the_parsers_do() {
        let any =
            jsonschema::validator_for(&serde_json::json!({"pattern": any_territory_pattern()}))
                .unwrap();
        let keys =
            jsonschema::validator_for(&serde_json::json!({"pattern": TERRITORY_KEY_PATTERN}))
                .unwrap();
        for sample in [
            "CL",
            "CO",
            "CL-13",
            "CL-131",
            "CL-13101",
            "CO-11",
            "CO-11001",
            "CO-131",
            "CL-1",
            "cl-13",
            "CL-13 ",
            " CL",
            "CL-1310",
            "CL-131011",
            "AR-01",
            "CL--13",
            "",
            "87142ed9-b926-53a4-a3c5-ae3c4cc81a5b",
            "87142ED9-B926-53A4-A3C5-AE3C4CC81A5B",
            "87142ed9b92653a4a3c5ae3c4cc81a5b",
            "{87142ed9-b926-53a4-a3c5-ae3c4cc81a5b}",
            "87142ed9-b926-53a4-a3c5-ae3c4cc81a5g",
            "CL-13\n",
        ] {
            let sample = sample.to_owned();
            let value = serde_json::json!(sample);
            assert_eq!(
                any.is_valid(&value),
                TerritoryRef::parse(&sample).is_ok(),
                "{sample:?}"
            );
            assert_eq!(
                keys.is_valid(&value),
                TerritoryKey::parse(&sample).is_ok(),
                "{sample:?}"
            );
        }
        let comunas = territory_ref_pattern(&[TerritoryLevel::Comuna]);
        assert_eq!(comunas, format!("^(CL-([0-9]{{5}})|{UUID_PATTERN})$"));
    }
}
