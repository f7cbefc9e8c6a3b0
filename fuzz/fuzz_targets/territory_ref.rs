//! Territory keys and references, as clients and tokens write them.
#![no_main]

use libfuzzer_sys::fuzz_target;
use redes::domain::{TerritoryKey, TerritoryRef};

fuzz_target!(|text: &str| {
    if let Ok(reference) = TerritoryRef::parse(text) {
        if let TerritoryRef::Key(key) = &reference {
            // A parsed key prints back to itself, and its parents end at the country.
            assert_eq!(TerritoryKey::parse(key.as_str()).as_ref(), Ok(key));
            let mut depth = 0;
            let mut current = key.clone();
            while let Some(parent) = current.parent() {
                assert!(parent.as_str().len() < current.as_str().len());
                current = parent;
                depth += 1;
                assert!(depth <= 3);
            }
        }
        let _ = reference.id();
    }
});
