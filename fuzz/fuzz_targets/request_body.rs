//! Request bodies against the documented contract. The invariant the service relies on: a body
//! the schema accepts always reads into the input type (otherwise a valid request would fail).
#![no_main]

use libfuzzer_sys::fuzz_target;
use redes::contract::contract;
use redes::routes::organizations::OrganizationInput;
use redes::routes::schools::SchoolInput;

fuzz_target!(|bytes: &[u8]| {
    let Ok(body) = serde_json::from_slice::<serde_json::Value>(bytes) else {
        return;
    };
    let Ok(contract) = contract() else {
        return;
    };
    for operation in ["create_school", "replace_school"] {
        if contract.issues(operation, &body).map(|i| i.is_empty()) == Ok(true) {
            assert!(serde_json::from_value::<SchoolInput>(body.clone()).is_ok(), "{body}");
        }
    }
    for operation in ["create_organization", "replace_organization"] {
        if contract.issues(operation, &body).map(|i| i.is_empty()) == Ok(true) {
            assert!(serde_json::from_value::<OrganizationInput>(body.clone()).is_ok(), "{body}");
        }
    }
    let _ = contract.issues("update_school", &body);
    let _ = contract.issues("update_organization", &body);
});
