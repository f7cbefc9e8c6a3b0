//! Query strings, through every typed getter of the reader.
#![no_main]

use libfuzzer_sys::fuzz_target;
use redes::catalog::Catalogue;
use redes::domain::{Country, TerritoryLevel};
use redes::query::QueryParams;

const KNOWN: &[&str] = &["country", "level", "parent", "q", "limit", "cursor", "rural", "id"];

fuzz_target!(|query: &str| {
    let Ok(catalogue) = Catalogue::embedded() else {
        return;
    };
    let params = QueryParams::parse(query);
    let mut reader = params.reader(KNOWN);
    let _ = reader.choice::<Country>("country", Country::NAMES);
    let _ = reader.choices::<TerritoryLevel>("level", TerritoryLevel::NAMES);
    let _ = reader.territory("parent", &catalogue);
    let q = reader.text("q", 100);
    if let Some(q) = &q {
        assert!(q.chars().count() <= 100 && !q.contains('\0'));
    }
    let page = reader.page();
    assert!((1..=500).contains(&page.limit));
    let _ = reader.boolean("rural");
    let _ = reader.uuid("id");
    let _ = reader.finish();
});
