//! RBD (with check digit), RUT, DANE and ETC codes.
#![no_main]

use libfuzzer_sys::fuzz_target;
use redes::domain::codes::{DaneCode, RbdInput, Rut, mod11_check_digit, parse_etc_code};

fuzz_target!(|text: &str| {
    if let Some(rbd) = RbdInput::parse(text) {
        let digit = rbd.expected_check_digit();
        assert!(digit.is_ascii_digit() || digit == 'K');
        let canonical = format!("{}-{}", rbd.number, digit);
        assert_eq!(RbdInput::parse(&canonical).map(|r| r.number), Some(rbd.number));
    }
    if let Some(rut) = Rut::parse(text) {
        // The canonical form parses to the same RUT.
        assert_eq!(Rut::parse(&rut.to_string()), Some(rut));
    }
    if let Some(code) = DaneCode::parse(text) {
        assert_eq!(code.as_str().len(), 12);
        assert_eq!(code.municipio_code().len(), 5);
    }
    let _ = parse_etc_code(text);
    if let Ok(n) = text.parse::<u64>() {
        let _ = mod11_check_digit(n);
    }
});
