//! Query strings, through every typed getter of the reader.
#![no_main]

use std::sync::LazyLock;

use libfuzzer_sys::fuzz_target;
use redes::catalog::Catalogue;
use redes::domain::{Country, TerritoryLevel};
use redes::query::{QueryParams, parse_date};

const KNOWN: &[&str] = &[
    "country", "level", "parent", "q", "limit", "cursor", "rural", "id", "on",
];

/// Parsed once: parsing the embedded CSVs on every input made the target 1,000 times slower.
static CATALOGUE: LazyLock<Option<Catalogue>> = LazyLock::new(|| Catalogue::embedded().ok());

fuzz_target!(|query: &str| {
    let Some(catalogue) = CATALOGUE.as_ref() else {
        return;
    };
    let params = QueryParams::parse(query);
    let mut reader = params.reader(KNOWN);
    let _ = reader.choice::<Country>("country", Country::NAMES);
    let _ = reader.choices::<TerritoryLevel>("level", TerritoryLevel::NAMES);
    let _ = reader.territory("parent", catalogue);
    let q = reader.text("q", 100);
    if let Some(q) = &q {
        assert!(q.chars().count() <= 100 && !q.contains('\0'));
    }
    let page = reader.page();
    assert!((1..=500).contains(&page.limit));
    let _ = reader.boolean("rural");
    let _ = reader.uuid("id");
    let _ = reader.date("on");
    // A date is exactly YYYY-MM-DD and prints back as it was written (it is stored as text).
    if let Some(date) = parse_date(query) {
        assert_eq!(date.to_string(), query);
    }
    let _ = reader.finish();
});

