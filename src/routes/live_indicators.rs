//! The platform's own indicators (`REDES_*`), computed live from Redes' data whenever a pull
//! asks for them, so they are as fresh as the sessions, agreements and plans they count.
//!
//! Each is computed for the whole of a period asked, as values of the org units the data
//! belongs to: a network's sessions and agreements count for the network (in its territory); a
//! school's plan actions and articulation count for the school. The pull then aggregates them
//! like recorded values: up the territory tree, and for a network from its own values (or else
//! its member schools' on the period's dates).

use std::collections::{BTreeMap, HashMap};

use chrono::{Datelike, NaiveDate};
use uuid::Uuid;

use crate::auth::TerritoryScope;
use crate::db::DbConnection;
use crate::domain::period::Period;
use crate::domain::plan::ActionStatus;
use crate::error::ApiResult;
use crate::repository::indicators as indicator_repo;
use crate::repository::platform;
use crate::routes::analytics::Figure;
use crate::routes::articulation;

pub const ACTIVE_NETWORKS: &str = "REDES_REDES_ACTIVAS";
pub const SESSIONS_HELD: &str = "REDES_SESIONES_REALIZADAS";
pub const PARTICIPANTS: &str = "REDES_PARTICIPANTES";
pub const ATTENDANCE_PRESENT: &str = "REDES_ASISTENCIA_PRESENTES";
pub const ATTENDANCE_EXPECTED: &str = "REDES_ASISTENCIA_ESPERADA";
pub const ATTENDANCE_RATE: &str = "REDES_TASA_ASISTENCIA";
pub const AGREEMENTS_DUE: &str = "REDES_ACUERDOS_EXIGIBLES";
pub const AGREEMENTS_ON_TIME: &str = "REDES_ACUERDOS_CUMPLIDOS_A_TIEMPO";
pub const AGREEMENTS_RATE: &str = "REDES_ACUERDOS_A_TIEMPO";
pub const PLAN_ACTIONS: &str = "REDES_ACCIONES_PLAN";
pub const PLAN_ACTIONS_EXECUTED: &str = "REDES_ACCIONES_PLAN_EJECUTADAS";
pub const PLAN_EXECUTION: &str = "REDES_EJECUCION_ACCIONES_PLAN";
pub const ARTICULATION_ELEMENTS: &str = "REDES_ARTICULACION_ELEMENTOS";
pub const ARTICULATION_COVERED: &str = "REDES_ARTICULACION_ELEMENTOS_CUBIERTOS";
pub const ARTICULATION_COVERAGE: &str = "REDES_COBERTURA_ARTICULACION";

/// Every indicator computed live.
pub const LIVE: [&str; 15] = [
    ACTIVE_NETWORKS,
    SESSIONS_HELD,
    PARTICIPANTS,
    ATTENDANCE_PRESENT,
    ATTENDANCE_EXPECTED,
    ATTENDANCE_RATE,
    AGREEMENTS_DUE,
    AGREEMENTS_ON_TIME,
    AGREEMENTS_RATE,
    PLAN_ACTIONS,
    PLAN_ACTIONS_EXECUTED,
    PLAN_EXECUTION,
    ARTICULATION_ELEMENTS,
    ARTICULATION_COVERED,
    ARTICULATION_COVERAGE,
];

/// Whether the indicator `code` is computed live.
pub fn is_live(code: &str) -> bool {
    LIVE.contains(&code)
}

/// A value computed live, of the disaggregation asked: its org unit (`network` or `school`),
/// the territory it counts in and the figure.
#[derive(Debug, Clone, PartialEq)]
pub struct LiveValue {
    pub org_unit_kind: &'static str,
    pub org_unit_id: Uuid,
    pub territory_path: String,
    pub figure: Figure,
}

/// Figures summed by org unit and disaggregation key (the total under `""`).
#[derive(Default)]
struct Tallies {
    sums: BTreeMap<(&'static str, Uuid, String, String), (f64, f64)>,
}

impl Tallies {
    /// Adds `(numerator or count, denominator)` to the unit's total and, when given, to its
    /// disaggregation `key`.
    fn add(&mut self, unit: (&'static str, Uuid, &str), key: Option<String>, amounts: (f64, f64)) {
        let (kind, id, path) = unit;
        let mut keys = vec![String::new()];
        keys.extend(key);
        for key in keys {
            let entry = self
                .sums
                .entry((kind, id, path.to_owned(), key))
                .or_insert((0.0, 0.0));
            entry.0 += amounts.0;
            entry.1 += amounts.1;
        }
    }

    /// The values of the disaggregation `wanted`: counts (the first amount), or ratios of the
    /// two amounts times `factor` (none where the denominator is 0).
    fn values(self, wanted: &str, ratio: Option<f64>) -> Vec<LiveValue> {
        self.sums
            .into_iter()
            .filter(|((_, _, _, key), _)| key == wanted)
            .filter_map(|((kind, id, path, _), (a, b))| {
                let figure = match ratio {
                    None => Figure {
                        value: a,
                        numerator: None,
                        denominator: None,
                    },
                    Some(_) if b == 0.0 => return None,
                    Some(factor) => Figure {
                        value: a / b * factor,
                        numerator: Some(a),
                        denominator: Some(b),
                    },
                };
                Some(LiveValue {
                    org_unit_kind: kind,
                    org_unit_id: id,
                    territory_path: path,
                    figure,
                })
            })
            .collect()
    }
}

/// The amounts a ratio indicator is built from, or a count's single amount.
enum Shape {
    Count,
    Numerator,
    Denominator,
    Ratio,
}

impl Shape {
    fn pick(&self, numerator: f64, denominator: f64) -> (f64, f64) {
        match self {
            Shape::Count | Shape::Numerator => (numerator, 0.0),
            Shape::Denominator => (denominator, 0.0),
            Shape::Ratio => (numerator, denominator),
        }
    }

    fn factor(&self) -> Option<f64> {
        matches!(self, Shape::Ratio).then_some(100.0)
    }
}

/// Whether an agreement that fell due was met on time: `done` on or before its due date when
/// the day is recorded (`done_on`); otherwise `done`, unless the session that followed it up
/// is dated after its due date.
fn met_on_time(
    status: &str,
    due_on: &str,
    done_on: Option<&str>,
    followed_up_on: Option<&str>,
) -> bool {
    status == "done"
        && match done_on {
            Some(day) => day <= due_on,
            None => followed_up_on.is_none_or(|day| day <= due_on),
        }
}

/// The live values of `code` for `period` and the disaggregation key `wanted`, as of `today`
/// (what falls due or starts later does not count yet). `None` when `code` is not computed
/// live. A period that has not begun has no values.
pub fn values(
    conn: &mut DbConnection,
    code: &str,
    period: &Period,
    wanted: &str,
    scope: &TerritoryScope,
    today: NaiveDate,
) -> ApiResult<Option<Vec<LiveValue>>> {
    if !is_live(code) {
        return Ok(None);
    }
    if today < period.start {
        return Ok(Some(Vec::new()));
    }
    let on = period.end.min(today);
    let (from, to) = (period.start.to_string(), period.end.to_string());
    let range = (from.as_str(), to.as_str());
    let mut tallies = Tallies::default();
    let shape = match code {
        ATTENDANCE_PRESENT | AGREEMENTS_ON_TIME | PLAN_ACTIONS_EXECUTED | ARTICULATION_COVERED => {
            Shape::Numerator
        }
        ATTENDANCE_EXPECTED | AGREEMENTS_DUE | PLAN_ACTIONS | ARTICULATION_ELEMENTS => {
            Shape::Denominator
        }
        ATTENDANCE_RATE | AGREEMENTS_RATE | PLAN_EXECUTION | ARTICULATION_COVERAGE => Shape::Ratio,
        _ => Shape::Count,
    };
    match code {
        ACTIVE_NETWORKS => {
            for (id, kind, path) in indicator_repo::active_networks(conn, range, scope)? {
                tallies.add(
                    ("network", id, &path),
                    Some(format!("kind={kind}")),
                    (1.0, 0.0),
                );
            }
        }
        SESSIONS_HELD => {
            for ((id, path), modality, n) in platform::sessions_held(conn, range, scope)? {
                tallies.add(
                    ("network", id, &path),
                    modality.map(|m| format!("modality={m}")),
                    (n as f64, 0.0),
                );
            }
        }
        PARTICIPANTS | ATTENDANCE_PRESENT | ATTENDANCE_EXPECTED | ATTENDANCE_RATE => {
            let mut by_network: HashMap<(Uuid, String), (f64, f64, f64)> = HashMap::new();
            for ((id, path), status, n) in platform::attendance(conn, range, scope)? {
                let entry = by_network.entry((id, path)).or_default();
                let n = n as f64;
                if status == "present" {
                    entry.0 += n; // participants
                    entry.1 += n; // present
                }
                entry.2 += n; // expected: present, absent, excused
            }
            for ((id, path), counted, present, invited) in
                platform::head_counts(conn, range, scope)?
            {
                let entry = by_network.entry((id, path)).or_default();
                entry.0 += counted as f64;
                entry.1 += present as f64;
                entry.2 += invited as f64;
            }
            for ((id, path), (participants, present, expected)) in by_network {
                let amounts = if code == PARTICIPANTS {
                    (participants, 0.0)
                } else {
                    shape.pick(present, expected)
                };
                tallies.add(("network", id, &path), None, amounts);
            }
        }
        AGREEMENTS_DUE | AGREEMENTS_ON_TIME | AGREEMENTS_RATE => {
            let until = on.to_string();
            for agreement in platform::due_agreements(conn, range, &until, scope)? {
                let on_time = met_on_time(
                    &agreement.status,
                    &agreement.due_on,
                    agreement.done_on.as_deref(),
                    agreement.followed_up_on.as_deref(),
                );
                let (id, path) = &agreement.network;
                tallies.add(
                    ("network", *id, path),
                    None,
                    shape.pick(if on_time { 1.0 } else { 0.0 }, 1.0),
                );
            }
        }
        PLAN_ACTIONS | PLAN_ACTIONS_EXECUTED | PLAN_EXECUTION => {
            let until = on.to_string();
            for action in platform::plan_actions(conn, on.year(), scope)? {
                let status: Option<ActionStatus> =
                    action.status.as_deref().and_then(|s| s.parse().ok());
                if status == Some(ActionStatus::Cancelled)
                    || action
                        .starts_on
                        .as_deref()
                        .is_some_and(|s| s > until.as_str())
                {
                    continue;
                }
                let executed = if status == Some(ActionStatus::Done) {
                    1.0
                } else {
                    f64::from(action.executed_percent.unwrap_or(0).clamp(0, 100)) / 100.0
                };
                tallies.add(
                    ("school", action.school, &action.territory_path),
                    Some(format!("plan_kind={}", action.plan_kind)),
                    shape.pick(executed, 1.0),
                );
            }
        }
        ARTICULATION_ELEMENTS | ARTICULATION_COVERED | ARTICULATION_COVERAGE => {
            let mut schools = platform::schools_with_plans(conn, on.year(), scope)?;
            schools.sort();
            schools.dedup_by_key(|(id, ..)| *id);
            let keys: Vec<(Uuid, String)> = schools
                .iter()
                .map(|(id, country, _)| (*id, country.clone()))
                .collect();
            let figures = articulation::school_figures(conn, &keys, on)?;
            for ((id, _, path), (_, figures)) in schools.iter().zip(figures) {
                for (element, tally) in [
                    ("sello", figures.sellos),
                    ("plan_normativo", figures.planes_normativos),
                ] {
                    tallies.add(
                        ("school", *id, path),
                        Some(format!("element={element}")),
                        shape.pick(tally.articulated as f64, tally.total as f64),
                    );
                }
            }
        }
        _ => return Ok(None),
    }
    Ok(Some(tallies.values(wanted, shape.factor())))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_agreement_is_on_time_when_done_by_its_due_date() {
        // The day it was done, when recorded, decides…
        assert!(met_on_time("done", "2017-05-10", Some("2017-05-10"), None));
        assert!(!met_on_time("done", "2017-05-10", Some("2017-05-11"), None));
        assert!(met_on_time(
            "done",
            "2017-05-10",
            Some("2017-05-01"),
            Some("2017-06-01")
        ));
        // …else the follow-up session's date.
        assert!(met_on_time("done", "2017-05-10", None, None));
        assert!(met_on_time("done", "2017-05-10", None, Some("2017-05-10")));
        assert!(!met_on_time("done", "2017-05-10", None, Some("2017-05-11")));
        assert!(!met_on_time("open", "2017-05-10", None, None));
    }

    #[test]
    fn tallies_give_totals_and_categories_and_skip_empty_ratios() {
        let network = Uuid::from_u128(1);
        let mut counts = Tallies::default();
        counts.add(
            ("network", network, "CL.09"),
            Some("modality=virtual".into()),
            (2.0, 0.0),
        );
        counts.add(("network", network, "CL.09"), None, (1.0, 0.0));
        let totals = counts.values("", None);
        assert_eq!(totals.len(), 1);
        assert_eq!(totals[0].figure.value, 3.0);
        let mut counts = Tallies::default();
        counts.add(
            ("network", network, "CL.09"),
            Some("modality=virtual".into()),
            (2.0, 0.0),
        );
        let virtual_only = counts.values("modality=virtual", None);
        assert_eq!(virtual_only[0].figure.value, 2.0);
        let mut ratios = Tallies::default();
        ratios.add(("school", network, "CL.09"), None, (0.0, 0.0));
        assert!(ratios.values("", Some(100.0)).is_empty(), "0/0 is no value");
        let mut ratios = Tallies::default();
        ratios.add(("school", network, "CL.09"), None, (1.0, 4.0));
        let figure = ratios.values("", Some(100.0))[0].figure;
        assert_eq!(
            (figure.value, figure.numerator, figure.denominator),
            (25.0, Some(1.0), Some(4.0))
        );
    }
}
