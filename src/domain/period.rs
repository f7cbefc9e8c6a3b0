//! Period codes, in the ISO-style forms DHIS2 and statistical offices use: `2017` (a year),
//! `2017S1` and `2017S2` (semesters), `2017Q1` to `2017Q4` (quarters), `2017-03` (a month) and
//! `2017W12` (an ISO 8601 week, Monday to Sunday). Each names a closed range of days.

use chrono::{Datelike, NaiveDate, Weekday};

named_enum! {
    /// How long a period is: `yearly`, `semester`, `quarterly`, `monthly` or `weekly`.
    #[schema(example = "yearly")]
    pub enum Periodicity {
        Yearly => "yearly",
        Semester => "semester",
        Quarterly => "quarterly",
        Monthly => "monthly",
        Weekly => "weekly",
    }
}

/// The years a period code may name.
pub const YEARS: std::ops::RangeInclusive<i32> = 1900..=2100;

/// A parsed period: its canonical code and its first and last days.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Period {
    pub periodicity: Periodicity,
    pub code: String,
    pub start: NaiveDate,
    pub end: NaiveDate,
}

fn date(year: i32, month: u32, day: u32) -> Option<NaiveDate> {
    NaiveDate::from_ymd_opt(year, month, day)
}

/// The last day of `month` of `year`.
fn month_end(year: i32, month: u32) -> Option<NaiveDate> {
    let (next_year, next_month) = if month == 12 {
        (year + 1, 1)
    } else {
        (year, month + 1)
    };
    date(next_year, next_month, 1)?.pred_opt()
}

fn number(text: &str) -> Option<u32> {
    if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    text.parse().ok()
}

impl Period {
    /// Reads a period code; `None` when it is not one of the forms, names a year outside
    /// 1900-2100, or a semester, quarter, month or week that does not exist (`2015W53`: 2015
    /// has 53 ISO weeks, 2017 does not).
    pub fn parse(code: &str) -> Option<Period> {
        let year_text = code.get(..4)?;
        if !year_text.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        let year = i32::try_from(number(year_text)?).ok()?;
        if !YEARS.contains(&year) {
            return None;
        }
        let rest = &code[4..];
        let (periodicity, start, end) = if rest.is_empty() {
            (Periodicity::Yearly, date(year, 1, 1)?, date(year, 12, 31)?)
        } else if let Some(n) = rest.strip_prefix('S') {
            match number(n)? {
                1 if n.len() == 1 => (Periodicity::Semester, date(year, 1, 1)?, date(year, 6, 30)?),
                2 if n.len() == 1 => (
                    Periodicity::Semester,
                    date(year, 7, 1)?,
                    date(year, 12, 31)?,
                ),
                _ => return None,
            }
        } else if let Some(n) = rest.strip_prefix('Q') {
            let quarter = number(n)?;
            if n.len() != 1 || !(1..=4).contains(&quarter) {
                return None;
            }
            let first = quarter * 3 - 2;
            (
                Periodicity::Quarterly,
                date(year, first, 1)?,
                month_end(year, first + 2)?,
            )
        } else if let Some(n) = rest.strip_prefix('-') {
            let month = number(n)?;
            if n.len() != 2 || !(1..=12).contains(&month) {
                return None;
            }
            (
                Periodicity::Monthly,
                date(year, month, 1)?,
                month_end(year, month)?,
            )
        } else if let Some(n) = rest.strip_prefix('W') {
            let week = number(n)?;
            if n.is_empty() || n.len() > 2 || n.starts_with('0') {
                return None;
            }
            let start = NaiveDate::from_isoywd_opt(year, week, Weekday::Mon)?;
            (Periodicity::Weekly, start, start + chrono::Days::new(6))
        } else {
            return None;
        };
        Some(Period {
            periodicity,
            code: code.to_owned(),
            start,
            end,
        })
    }

    /// Whether `code` has the form of a period code: a period, or week 53 of a year that has
    /// only 52 ISO weeks (well formed, but naming no days).
    pub fn is_well_formed(code: &str) -> bool {
        Period::parse(code).is_some()
            || code
                .strip_suffix("W53")
                .and_then(Period::parse)
                .is_some_and(|year| year.periodicity == Periodicity::Yearly)
    }

    /// The year the period starts in (an ISO week may start in the year before its code's).
    pub fn year(&self) -> i32 {
        self.start.year()
    }

    /// Whether every day of `other` is in this period.
    pub fn contains(&self, other: &Period) -> bool {
        self.start <= other.start && other.end <= self.end
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn day(text: &str) -> NaiveDate {
        NaiveDate::parse_from_str(text, "%Y-%m-%d").expect("a date")
    }

    #[test]
    fn each_form_names_its_days() {
        let cases = [
            ("2017", "2017-01-01", "2017-12-31"),
            ("2017S1", "2017-01-01", "2017-06-30"),
            ("2017S2", "2017-07-01", "2017-12-31"),
            ("2017Q1", "2017-01-01", "2017-03-31"),
            ("2016Q1", "2016-01-01", "2016-03-31"),
            ("2017Q4", "2017-10-01", "2017-12-31"),
            ("2016-02", "2016-02-01", "2016-02-29"),
            ("2017-02", "2017-02-01", "2017-02-28"),
            ("2017W12", "2017-03-20", "2017-03-26"),
            // ISO week 1 of 2015 starts in 2014; 2015 has a week 53.
            ("2015W1", "2014-12-29", "2015-01-04"),
            ("2015W53", "2015-12-28", "2016-01-03"),
        ];
        for (code, start, end) in cases {
            let period = Period::parse(code).unwrap_or_else(|| panic!("{code}"));
            assert_eq!((period.start, period.end), (day(start), day(end)), "{code}");
        }
    }

    #[test]
    fn what_is_not_a_period_is_refused() {
        for code in [
            "",
            "17",
            "2017S3",
            "2017S0",
            "2017Q5",
            "2017Q0",
            "2017-13",
            "2017-00",
            "2017-3",
            "2017W54",
            "2017W53",
            "2017W0",
            "2017W012",
            "1899",
            "2101",
            "2017 ",
            "2017q1",
            "2017-03-01",
            "20l7",
            "２０１７",
            "2017W",
            "2017Q",
            "2017S",
            "2017Q+1",
        ] {
            assert_eq!(Period::parse(code), None, "{code:?}");
        }
        assert!(Period::is_well_formed("2017W53"));
        assert!(!Period::is_well_formed("2017W54"));
        assert!(Period::is_well_formed("2017Q2"));
    }

    /// The code of the `i`-th part of year `y`.
    type CodeOf = fn(u32, i32) -> String;

    fn any_code() -> impl Strategy<Value = String> {
        (1900i32..=2100, 0u8..5, 1u32..=53).prop_map(|(year, form, n)| match form {
            0 => format!("{year}"),
            1 => format!("{year}S{}", 1 + n % 2),
            2 => format!("{year}Q{}", 1 + n % 4),
            3 => format!("{year}-{:02}", 1 + n % 12),
            _ => format!("{year}W{}", 1 + n % 52),
        })
    }

    proptest! {
        #[test]
        fn every_valid_code_reads_back_as_itself_and_its_days_are_in_order(code in any_code()) {
            let period = Period::parse(&code).expect("a valid code");
            prop_assert_eq!(&period.code, &code);
            prop_assert!(period.start <= period.end);
        }

        #[test]
        fn the_sub_periods_of_a_year_tile_it_without_gap_or_overlap(year in 1900i32..=2100) {
            let whole = Period::parse(&year.to_string()).expect("a year");
            let forms: [(u32, CodeOf); 3] = [
                (2, |i, y| format!("{y}S{i}")),
                (4, |i, y| format!("{y}Q{i}")),
                (12, |i, y| format!("{y}-{i:02}")),
            ];
            for (count, code) in forms {
                let parts: Vec<Period> = (1..=count)
                    .map(|i| Period::parse(&code(i, year)).expect("a part"))
                    .collect();
                prop_assert_eq!(parts[0].start, whole.start);
                prop_assert_eq!(parts[parts.len() - 1].end, whole.end);
                for pair in parts.windows(2) {
                    prop_assert_eq!(pair[0].end.succ_opt(), Some(pair[1].start));
                    prop_assert!(whole.contains(&pair[0]));
                }
            }
        }

        #[test]
        fn iso_weeks_follow_each_other(year in 1900i32..=2099, week in 1u32..=52) {
            let this = Period::parse(&format!("{year}W{week}")).expect("a week");
            prop_assert_eq!(this.start.weekday(), Weekday::Mon);
            let next = Period::parse(&format!("{year}W{}", week + 1))
                .or_else(|| Period::parse(&format!("{}W1", year + 1)))
                .expect("the next week");
            prop_assert_eq!(this.end.succ_opt(), Some(next.start));
        }

        #[test]
        fn arbitrary_text_never_panics(text in "\\PC{0,12}") {
            let _ = Period::parse(&text);
        }
    }
}
