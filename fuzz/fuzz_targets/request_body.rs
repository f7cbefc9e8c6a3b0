//! Request bodies against the documented contract. The invariant the service relies on: a body
//! the schema accepts always reads into the input type (otherwise a valid request would fail).
#![no_main]

use libfuzzer_sys::fuzz_target;
use redes::contract::contract;
use redes::routes::networks::{MemberInput, NetworkInput};
use redes::routes::organizations::OrganizationInput;
use redes::routes::people::PersonInput;
use redes::routes::schools::SchoolInput;
use redes::routes::sessions::SessionInput;

fuzz_target!(|bytes: &[u8]| {
    let Ok(body) = serde_json::from_slice::<serde_json::Value>(bytes) else {
        return;
    };
    let Ok(contract) = contract() else {
        return;
    };
    for operation in ["create_school", "replace_school"] {
        if matches!(contract.issues(operation, &body), Ok(issues) if issues.is_empty()) {
            assert!(serde_json::from_value::<SchoolInput>(body.clone()).is_ok(), "{body}");
        }
    }
    for operation in ["create_organization", "replace_organization"] {
        if matches!(contract.issues(operation, &body), Ok(issues) if issues.is_empty()) {
            assert!(serde_json::from_value::<OrganizationInput>(body.clone()).is_ok(), "{body}");
        }
    }
    for operation in ["create_network", "replace_network"] {
        if matches!(contract.issues(operation, &body), Ok(issues) if issues.is_empty()) {
            assert!(serde_json::from_value::<NetworkInput>(body.clone()).is_ok(), "{body}");
        }
    }
    for operation in ["create_network_member", "replace_network_member"] {
        if matches!(contract.issues(operation, &body), Ok(issues) if issues.is_empty()) {
            assert!(serde_json::from_value::<MemberInput>(body.clone()).is_ok(), "{body}");
        }
    }
    for operation in ["create_person", "replace_person"] {
        if matches!(contract.issues(operation, &body), Ok(issues) if issues.is_empty()) {
            assert!(serde_json::from_value::<PersonInput>(body.clone()).is_ok(), "{body}");
        }
    }
    for operation in ["create_network_session", "replace_session"] {
        if matches!(contract.issues(operation, &body), Ok(issues) if issues.is_empty()) {
            assert!(serde_json::from_value::<SessionInput>(body.clone()).is_ok(), "{body}");
        }
    }
    if matches!(contract.issues("create_catalogue_item", &body), Ok(issues) if issues.is_empty()) {
        assert!(
            serde_json::from_value::<redes::routes::catalogues::CatalogueItemInput>(body.clone())
                .is_ok(),
            "{body}"
        );
    }
    if matches!(contract.issues("replace_school_pei", &body), Ok(issues) if issues.is_empty()) {
        assert!(
            serde_json::from_value::<redes::routes::pei::PeiInput>(body.clone()).is_ok(),
            "{body}"
        );
    }
    let _ = contract.issues("update_school_pei", &body);
    let _ = contract.issues("update_person", &body);
    let _ = contract.issues("update_session", &body);
    let _ = contract.issues("update_network", &body);
    let _ = contract.issues("update_network_member", &body);
    let _ = contract.issues("update_school", &body);
    let _ = contract.issues("update_organization", &body);
});
