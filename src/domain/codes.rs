//! Official codes: Chile's RUT and RBD (both with a modulo-11 check digit) and Colombia's DANE
//! code of an educational establishment.

use std::fmt;

/// The modulo-11 check digit Chile uses for RUT and RBD: `0`-`9` or `K`.
pub fn mod11_check_digit(number: u64) -> char {
    let mut sum = 0u64;
    let mut factor = 2u64;
    let mut n = number;
    while n > 0 {
        sum += (n % 10) * factor;
        n /= 10;
        factor = if factor == 7 { 2 } else { factor + 1 };
    }
    match 11 - (sum % 11) {
        11 => '0',
        10 => 'K',
        d => char::from_digit(d as u32, 10).unwrap_or('0'),
    }
}

/// A check digit as written: a digit or `K`/`k`.
pub fn parse_check_digit(text: &str) -> Option<char> {
    let mut chars = text.chars();
    let c = chars.next()?.to_ascii_uppercase();
    (chars.next().is_none() && (c.is_ascii_digit() || c == 'K')).then_some(c)
}

/// An RBD (*Rol Base de Datos*), Mineduc's number for a Chilean school, optionally with its
/// check digit: `5575` or `5575-1`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RbdInput {
    pub number: u32,
    pub check_digit: Option<char>,
}

pub const MAX_RBD: u32 = 99_999_999;

impl RbdInput {
    pub fn parse(text: &str) -> Option<RbdInput> {
        let (number, dv) = match text.split_once('-') {
            Some((number, dv)) => (number, Some(parse_check_digit(dv)?)),
            None => (text, None),
        };
        if number.is_empty() || number.len() > 8 || !number.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        let number: u32 = number.parse().ok()?;
        (1..=MAX_RBD).contains(&number).then_some(RbdInput {
            number,
            check_digit: dv,
        })
    }

    pub fn expected_check_digit(self) -> char {
        mod11_check_digit(u64::from(self.number))
    }
}

/// The documented form of a RUT: `69.190.700-7` or `69190700-7`.
pub const RUT_PATTERN: &str = "^[1-9][0-9]?(\\.?[0-9]{3}){2}-[0-9Kk]$";

/// A Chilean RUT (*Rol Único Tributario*), e.g. of a sostenedor: `69.190.700-7`, `69190700-7`.
/// Like an RBD, a RUT whose check digit does not match its number is kept and reported as a
/// warning: the record is the organisation's, and published registries have such RUTs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Rut {
    number: u32,
    check_digit: char,
}

impl Rut {
    /// Parses a RUT exactly as [`RUT_PATTERN`] describes it.
    pub fn parse(text: &str) -> Option<Rut> {
        let (number, dv) = text.split_once('-')?;
        let check_digit = parse_check_digit(dv)?;
        let groups: Vec<&str> = number.split('.').collect();
        let digits: String = match groups.as_slice() {
            [all] if (7..=8).contains(&all.len()) => (*all).to_owned(),
            [head, a, b] if (1..=2).contains(&head.len()) && a.len() == 3 && b.len() == 3 => {
                format!("{head}{a}{b}")
            }
            // One dot only: `12.345678` or `12345.678`.
            [head, tail] if (1..=2).contains(&head.len()) && tail.len() == 6 => {
                format!("{head}{tail}")
            }
            [head, tail] if (4..=5).contains(&head.len()) && tail.len() == 3 => {
                format!("{head}{tail}")
            }
            _ => return None,
        };
        // No leading zero: `0566050-1` would print as `566050-1`, which is not a RUT's form.
        if !digits.bytes().all(|b| b.is_ascii_digit()) || digits.starts_with('0') {
            return None;
        }
        Some(Rut {
            number: digits.parse().ok()?,
            check_digit,
        })
    }

    /// The check digit the number calls for.
    pub fn expected_check_digit(self) -> char {
        mod11_check_digit(u64::from(self.number))
    }

    pub fn check_digit_matches(self) -> bool {
        self.check_digit == self.expected_check_digit()
    }
}

/// Canonical form: digits, dash, check digit (`69070900-7`).
impl fmt::Display for Rut {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}-{}", self.number, self.check_digit)
    }
}

/// A DANE code of a Colombian educational establishment or sede: 12 digits. Digits 2-6 are the
/// DIVIPOLA code of its municipio.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct DaneCode(String);

impl DaneCode {
    pub fn parse(text: &str) -> Option<DaneCode> {
        (text.len() == 12 && text.bytes().all(|b| b.is_ascii_digit()))
            .then(|| DaneCode(text.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The DIVIPOLA municipio code embedded in the code.
    pub fn municipio_code(&self) -> &str {
        &self.0[1..6]
    }
}

/// The code of an *Entidad Territorial Certificada* (a certified Secretaría de Educación), as MEN
/// publishes it: digits.
pub fn parse_etc_code(text: &str) -> Option<String> {
    (!text.is_empty() && text.len() <= 8 && text.bytes().all(|b| b.is_ascii_digit()))
        .then(|| text.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn check_digits_follow_modulo_11() {
        assert_eq!(mod11_check_digit(5575), '1');
        assert_eq!(mod11_check_digit(69_070_900), '7');
        assert_eq!(mod11_check_digit(11_111_111), '1');
        assert_eq!(mod11_check_digit(10_000_013), 'K');
        assert_eq!(mod11_check_digit(6), 'K');
        assert_eq!(mod11_check_digit(1_000_005), 'K');
        // A number whose weighted sum is a multiple of 11 has check digit 0.
        let zero = (1..100_000u64)
            .find(|n| mod11_check_digit(*n) == '0')
            .unwrap();
        assert_eq!(mod11_check_digit(zero), '0');
    }

    #[test]
    fn rbd_parses_with_or_without_check_digit() {
        assert_eq!(
            RbdInput::parse("5575"),
            Some(RbdInput {
                number: 5575,
                check_digit: None
            })
        );
        assert_eq!(
            RbdInput::parse("5575-1"),
            Some(RbdInput {
                number: 5575,
                check_digit: Some('1')
            })
        );
        assert_eq!(RbdInput::parse("24-k").unwrap().check_digit, Some('K'));
        for bad in [
            "",
            "-1",
            "55a5",
            "5575-",
            "5575-12",
            "0",
            "123456789",
            "5575-x",
        ] {
            assert_eq!(RbdInput::parse(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn rut_parses_as_its_pattern_says_and_checks_its_digit() {
        let rut = Rut::parse("69.070.900-7").unwrap();
        assert_eq!(rut.to_string(), "69070900-7");
        assert!(rut.check_digit_matches());
        let wrong = Rut::parse("69070900-8").unwrap();
        assert!(!wrong.check_digit_matches());
        assert_eq!(wrong.expected_check_digit(), '7');
        let pattern =
            jsonschema::validator_for(&serde_json::json!({"pattern": RUT_PATTERN})).unwrap();
        for sample in [
            "69.070.900-7",
            "69070900-7",
            "6.907.090-k",
            "6907090-K",
            "69.070900-7",
            "69070.900-7",
            "69070900",
            "abc-1",
            "69.07.0900-7",
            "1-9",
            " 69070900-7",
            "690709000-7",
            "69070900-77",
            "69,070,900-7",
            "0566050-1",
            "05.660.501-1",
        ] {
            assert_eq!(
                pattern.is_valid(&serde_json::json!(sample)),
                Rut::parse(sample).is_some(),
                "{sample:?}"
            );
        }
    }

    #[test]
    fn dane_codes_are_twelve_digits_with_the_municipio_inside() {
        let code = DaneCode::parse("105001000108").unwrap();
        assert_eq!(code.municipio_code(), "05001");
        assert!(DaneCode::parse("10500100010").is_none());
        assert!(DaneCode::parse("10500100010a").is_none());
    }
}
