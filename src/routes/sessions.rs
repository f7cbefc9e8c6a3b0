//! `/api/v1/networks/{id}/sessions` and `/api/v1/sessions`: a network's sessions, with their
//! attendance, head counts, agreements and evidence; and `/api/v1/networks/{id}/summary`.

use std::collections::{BTreeMap, HashSet};

use actix_web::{HttpResponse, delete, get, patch, post, put, web};
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::auth::scopes::{SessionsRead, SessionsWrite};
use crate::auth::{Authorized, TerritoryScope};
use crate::body::{Validator, text};
use crate::catalog::Catalogue;
use crate::db::{Db, DbConnection, DbUuid};
use crate::domain::network::{
    AgreementStatus, AttendanceStatus, CountUnit, EvidenceKind, Modality, ParticipantRole,
    SessionStatus,
};
use crate::error::{ApiError, ApiResult, IssueKind, Resource};
use crate::etag::Preconditions;
use crate::json::Json;
use crate::openapi::responses;
use crate::pagination::into_page;
use crate::query::{NoParams, QueryParams, QueryReader, parse_date};
use crate::repository::networks::{self as networks_repo, NetworkRow};
use crate::repository::sessions::{
    self as repo, AgreementFilter, AgreementRow, AttendanceRow, CountRow, SessionData,
    SessionFilter, SessionParts, SessionRecord,
};
use crate::repository::{NameCursor, UpdateOutcome, people, schools};
use crate::routes::common::{
    check_patch, checked, created, in_state, merged, not_modified, optional_text, path_id,
    text_list, with_etag,
};
use crate::routes::networks::writable;

/// A piece of evidence of a session: minutes, an attendance sheet, photos, a presentation.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema, PartialEq, Eq)]
#[schema(example = json!({
    "title": "Acta de la sesión",
    "url": "https://example.cl/redes/freire/acta-2017-04-12.pdf",
    "kind": "minutes"
}))]
pub struct Evidence {
    /// What it is (1-200 characters).
    #[schema(min_length = 1, max_length = 200)]
    pub title: String,
    /// Where it is: an `http` or `https` URL.
    #[schema(max_length = 2000)]
    pub url: String,
    pub kind: EvidenceKind,
}

/// A head count: how many took part in one role, for events too large to record person by
/// person.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema, PartialEq, Eq)]
#[schema(example = json!({
    "role": "participant", "unit": "people", "count": 6000, "invited": null,
    "label": "participantes en encuentros virtuales"
}))]
pub struct ParticipantCount {
    pub role: ParticipantRole,
    /// `people` when absent.
    #[serde(default)]
    pub unit: Option<CountUnit>,
    /// How many took part.
    #[serde(deserialize_with = "crate::routes::common::whole_number")]
    #[schema(minimum = 0, maximum = 10_000_000)]
    pub count: i32,
    /// How many were invited, when known: the attendance rate counts only head counts with
    /// it.
    #[serde(
        default,
        deserialize_with = "crate::routes::common::optional_whole_number"
    )]
    #[schema(minimum = 0, maximum = 10_000_000)]
    pub invited: Option<i32>,
    /// Who they were, in the record's own words (up to 500 characters).
    #[serde(default)]
    #[schema(max_length = 500)]
    pub label: Option<String>,
}

/// An agreement (*acuerdo*) reached at a session.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(example = json!({
    "id": "019ab3c2-7d10-7a3e-8e44-2f7c1b9d0e77",
    "text": "Cada escuela presenta en la próxima sesión cómo sus sellos aparecen en el PME.",
    "owner_person_id": null,
    "owner_school_id": "56109f40-17b6-42a2-80a0-1ee14ff99828",
    "due_on": "2017-05-10",
    "status": "open",
    "followed_up_in": null,
    "done_on": null
}))]
pub struct Agreement {
    /// Stable across replacements of the session that keep it (give it back in `PUT`).
    pub id: Uuid,
    pub text: String,
    /// The person who owns it, if a person does.
    pub owner_person_id: Option<Uuid>,
    /// The school that owns it, if a school does.
    pub owner_school_id: Option<Uuid>,
    pub due_on: Option<NaiveDate>,
    pub status: AgreementStatus,
    /// The session of the same network where it was followed up.
    pub followed_up_in: Option<Uuid>,
    /// The day it was done, when known (only with status `done`).
    pub done_on: Option<NaiveDate>,
}

/// An agreement in a session body. With `id` (one of the session's agreements), it keeps its
/// id; without, it is new.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[schema(example = json!({
    "text": "Cada escuela presenta en la próxima sesión cómo sus sellos aparecen en el PME.",
    "owner_school_id": "56109f40-17b6-42a2-80a0-1ee14ff99828",
    "due_on": "2017-05-10"
}))]
pub struct AgreementInput {
    #[serde(default)]
    pub id: Option<Uuid>,
    /// What was agreed (1-2,000 characters).
    #[schema(min_length = 1, max_length = 2000)]
    pub text: String,
    /// A person in the caller's territories; at most one owner.
    #[serde(default)]
    pub owner_person_id: Option<Uuid>,
    /// A school the caller sees; at most one owner.
    #[serde(default)]
    pub owner_school_id: Option<Uuid>,
    #[serde(default)]
    pub due_on: Option<NaiveDate>,
    /// `open` when absent.
    #[serde(default)]
    pub status: Option<AgreementStatus>,
    /// Another session of the same network.
    #[serde(default)]
    pub followed_up_in: Option<Uuid>,
    /// The day it was done: only with status `done`, and not after today. Give it whenever it
    /// is known: on-time completion (`REDES_ACUERDOS_A_TIEMPO`) is then exact.
    #[serde(default)]
    pub done_on: Option<NaiveDate>,
}

/// A session of a network: a meeting, a workshop, a visit, an encounter.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(example = json!({
    "id": "019ab3c2-7d10-7a3e-8e44-2f7c1b9d0e88",
    "network_id": "0f8b5f4e-8a57-5d0e-9a55-9d3f0c7e2a11",
    "title": "Los sellos del PEI en las acciones del PME",
    "date": "2017-04-12",
    "start_time": "09:30",
    "duration_minutes": 180,
    "modality": "in_person",
    "status": "held",
    "host_school_id": "56109f40-17b6-42a2-80a0-1ee14ff99828",
    "place": "Biblioteca del Liceo Juan Schleyer",
    "work_plan_objective": "Articular el PEI, el PME y los planes normativos",
    "agenda": ["Bienvenida de la escuela anfitriona", "Análisis de los sellos del PEI"],
    "attendance": {"019ab3c2-7d10-7a3e-8e44-2f7c1b9d0e66": "present"},
    "participant_counts": [],
    "agreements": [],
    "evidence": [{"title": "Acta de la sesión",
        "url": "https://example.cl/redes/freire/acta-2017-04-12.pdf", "kind": "minutes"}],
    "reflection": "Los equipos reconocen sus sellos en pocas acciones del PME.",
    "notes": null,
    "created_at": "2026-11-23T19:23:00.123456Z",
    "updated_at": "2026-11-23T19:23:00.123456Z"
}))]
pub struct Session {
    pub id: Uuid,
    pub network_id: Uuid,
    /// Its theme.
    pub title: String,
    /// The day, in the place's calendar; `null` when the record gives none.
    pub date: Option<NaiveDate>,
    /// The local start time, `HH:MM`.
    pub start_time: Option<String>,
    pub duration_minutes: Option<i32>,
    pub modality: Option<Modality>,
    pub status: SessionStatus,
    /// The school that hosts it (networks rotate hosts).
    pub host_school_id: Option<Uuid>,
    /// Where it takes place.
    pub place: Option<String>,
    /// The objective of the network's work plan it serves.
    pub work_plan_objective: Option<String>,
    /// The agenda items, in order.
    pub agenda: Vec<String>,
    /// Attendance person by person: person id → `present`, `absent` or `excused`.
    pub attendance: BTreeMap<Uuid, AttendanceStatus>,
    /// Head counts by role, for large events.
    pub participant_counts: Vec<ParticipantCount>,
    /// The agreements reached, in order.
    pub agreements: Vec<Agreement>,
    pub evidence: Vec<Evidence>,
    /// What the network reflected on.
    pub reflection: Option<String>,
    /// Anything else worth keeping (for instance where the record comes from).
    pub notes: Option<String>,
    #[serde(serialize_with = "crate::json::timestamp")]
    pub created_at: DateTime<Utc>,
    #[serde(serialize_with = "crate::json::timestamp")]
    pub updated_at: DateTime<Utc>,
}

/// The body of `POST /api/v1/networks/{id}/sessions` and of `PUT /api/v1/sessions/{id}`.
#[derive(Debug, Deserialize, ToSchema)]
#[schema(example = json!({
    "title": "Los sellos del PEI en las acciones del PME",
    "date": "2017-04-12",
    "start_time": "09:30",
    "duration_minutes": 180,
    "modality": "in_person",
    "status": "held",
    "host_school_id": "56109f40-17b6-42a2-80a0-1ee14ff99828",
    "agenda": ["Bienvenida de la escuela anfitriona", "Análisis de los sellos del PEI"],
    "attendance": {"019ab3c2-7d10-7a3e-8e44-2f7c1b9d0e66": "present"},
    "agreements": [{"text": "Cada escuela presenta cómo sus sellos aparecen en el PME.",
        "owner_school_id": "56109f40-17b6-42a2-80a0-1ee14ff99828", "due_on": "2017-05-10"}]
}))]
pub struct SessionInput {
    /// Its theme (1-200 characters, not blank; trimmed).
    #[schema(min_length = 1, max_length = 200)]
    pub title: String,
    /// The day, `YYYY-MM-DD`; absent when the record gives none (it then counts in no year).
    #[serde(default)]
    pub date: Option<NaiveDate>,
    /// The local start time, `HH:MM` (24 h).
    #[serde(default)]
    #[schema(example = "09:30")]
    pub start_time: Option<String>,
    /// 1-1,440 minutes.
    #[serde(
        default,
        deserialize_with = "crate::routes::common::optional_whole_number"
    )]
    #[schema(minimum = 1, maximum = 1440)]
    pub duration_minutes: Option<i32>,
    #[serde(default)]
    pub modality: Option<Modality>,
    /// `planned` when absent.
    #[serde(default)]
    pub status: Option<SessionStatus>,
    /// A school the caller sees.
    #[serde(default)]
    pub host_school_id: Option<Uuid>,
    /// Up to 500 characters.
    #[serde(default)]
    #[schema(max_length = 500)]
    pub place: Option<String>,
    /// Up to 2,000 characters.
    #[serde(default)]
    #[schema(max_length = 2000)]
    pub work_plan_objective: Option<String>,
    /// Up to 50 items of up to 2,000 characters.
    #[serde(default)]
    #[schema(max_items = 50)]
    pub agenda: Option<Vec<String>>,
    /// Person id → status, up to 2,000 people in the caller's territories.
    #[serde(default)]
    pub attendance: Option<BTreeMap<Uuid, AttendanceStatus>>,
    /// Up to 50.
    #[serde(default)]
    #[schema(max_items = 50)]
    pub participant_counts: Option<Vec<ParticipantCount>>,
    /// Up to 100, each id at most once.
    #[serde(default)]
    #[schema(max_items = 100)]
    pub agreements: Option<Vec<AgreementInput>>,
    /// Up to 50.
    #[serde(default)]
    #[schema(max_items = 50)]
    pub evidence: Option<Vec<Evidence>>,
    /// Up to 10,000 characters.
    #[serde(default)]
    #[schema(max_length = 10000)]
    pub reflection: Option<String>,
    /// Up to 5,000 characters.
    #[serde(default)]
    #[schema(max_length = 5000)]
    pub notes: Option<String>,
}

/// The body of `PATCH /api/v1/sessions/{id}`: a JSON merge patch (lists and the attendance
/// object are replaced whole). `null` removes an optional field.
#[derive(Debug, ToSchema)]
#[schema(example = json!({"status": "held", "reflection": "Se acordó profundizar en el PME."}))]
#[expect(
    dead_code,
    reason = "documents the PATCH body; the patch is merged as JSON"
)]
pub struct SessionPatch {
    #[schema(min_length = 1, max_length = 200)]
    title: Option<String>,
    date: Option<NaiveDate>,
    start_time: Option<String>,
    #[schema(minimum = 1, maximum = 1440)]
    duration_minutes: Option<i32>,
    modality: Option<Modality>,
    status: Option<SessionStatus>,
    host_school_id: Option<Uuid>,
    #[schema(max_length = 500)]
    place: Option<String>,
    #[schema(max_length = 2000)]
    work_plan_objective: Option<String>,
    #[schema(max_items = 50)]
    agenda: Option<Vec<String>>,
    attendance: Option<BTreeMap<Uuid, AttendanceStatus>>,
    #[schema(max_items = 50)]
    participant_counts: Option<Vec<ParticipantCount>>,
    #[schema(max_items = 100)]
    agreements: Option<Vec<AgreementInput>>,
    #[schema(max_items = 50)]
    evidence: Option<Vec<Evidence>>,
    #[schema(max_length = 10000)]
    reflection: Option<String>,
    #[schema(max_length = 5000)]
    notes: Option<String>,
}

/// The rules of a session no schema can state: every school, person and session it names is
/// one the caller may refer to; agreement ids are the session's own, each once.
/// `current` is the session being replaced, if any.
pub fn validate(
    input: SessionInput,
    network: &NetworkRow,
    current: Option<&SessionRecord>,
    scope: &TerritoryScope,
    conn: &mut DbConnection,
) -> ApiResult<(SessionData, SessionParts)> {
    let mut v = Validator::new();
    if let Some(host) = input.host_school_id
        && schools::find(conn, host, scope)?.is_none()
    {
        v.issue("/host_school_id", IssueKind::UnknownReference);
    }
    let attendance = input.attendance.unwrap_or_default();
    let agreements = input.agreements.unwrap_or_default();
    // Every person named, checked in one query.
    let mut person_ids: Vec<DbUuid> = attendance.keys().map(|id| DbUuid(*id)).collect();
    person_ids.extend(
        agreements
            .iter()
            .filter_map(|a| a.owner_person_id.map(DbUuid)),
    );
    let visible_people = people::names_visible(conn, person_ids, scope)?;
    for person in attendance.keys() {
        if !visible_people.contains_key(person) {
            v.issue(format!("/attendance/{person}"), IssueKind::UnknownReference);
        }
    }
    let own_agreements: HashSet<Uuid> = current
        .map(|c| c.parts.agreements.iter().map(|a| a.id.0).collect())
        .unwrap_or_default();
    let follow_ups: Vec<DbUuid> = agreements
        .iter()
        .filter_map(|a| a.followed_up_in.map(DbUuid))
        .collect();
    let network_sessions: HashSet<Uuid> = repo::of_network(conn, network.id.0, follow_ups)?
        .into_iter()
        .map(|id| id.0)
        .collect();
    let mut seen = HashSet::new();
    let mut agreement_rows = Vec::with_capacity(agreements.len());
    for (index, agreement) in agreements.into_iter().enumerate() {
        let at = |field: &str| format!("/agreements/{index}/{field}");
        let id = match agreement.id {
            Some(id) if !own_agreements.contains(&id) => {
                v.issue(at("id"), IssueKind::UnknownReference);
                id
            }
            Some(id) => id,
            None => Uuid::now_v7(),
        };
        if !seen.insert(id) {
            v.issue(at("id"), IssueKind::Duplicate);
        }
        if let Some(person) = agreement.owner_person_id
            && !visible_people.contains_key(&person)
        {
            v.issue(at("owner_person_id"), IssueKind::UnknownReference);
        }
        if let Some(school) = agreement.owner_school_id
            && schools::find(conn, school, scope)?.is_none()
        {
            v.issue(at("owner_school_id"), IssueKind::UnknownReference);
        }
        if let Some(session) = agreement.followed_up_in
            && !network_sessions.contains(&session)
        {
            v.issue(at("followed_up_in"), IssueKind::UnknownReference);
        }
        if let Some(done_on) = agreement.done_on {
            if agreement.status != Some(AgreementStatus::Done) {
                v.issue(
                    at("done_on"),
                    IssueKind::InvalidValue {
                        expected_es: "ninguna fecha, salvo que el acuerdo esté `done`".into(),
                        expected_en: "no date, unless the agreement is `done`".into(),
                    },
                );
            } else if done_on > chrono::Utc::now().date_naive() {
                v.issue(
                    at("done_on"),
                    IssueKind::InvalidValue {
                        expected_es: "una fecha no posterior a hoy".into(),
                        expected_en: "a date no later than today".into(),
                    },
                );
            }
        }
        agreement_rows.push(AgreementRow {
            id: DbUuid(id),
            session_id: DbUuid(Uuid::nil()),
            ordinal: 0,
            text: text(&agreement.text),
            owner_person_id: agreement.owner_person_id.map(DbUuid),
            owner_school_id: agreement.owner_school_id.map(DbUuid),
            due_on: agreement.due_on.map(|d| d.to_string()),
            status: agreement
                .status
                .unwrap_or(AgreementStatus::Open)
                .as_str()
                .to_owned(),
            followed_up_in: agreement.followed_up_in.map(DbUuid),
            done_on: agreement.done_on.map(|d| d.to_string()),
        });
    }
    v.finish()?;
    let evidence: Vec<Evidence> = input
        .evidence
        .unwrap_or_default()
        .into_iter()
        .map(|e| Evidence {
            title: text(&e.title),
            url: e.url.trim().to_owned(),
            kind: e.kind,
        })
        .collect();
    let date = input.date.map(|d| d.to_string());
    let data = SessionData {
        title: text(&input.title),
        sort_key: date.clone().unwrap_or_default(),
        date,
        start_time: input.start_time,
        duration_minutes: input.duration_minutes,
        modality: input.modality.map(|m| m.as_str().to_owned()),
        status: input
            .status
            .unwrap_or(SessionStatus::Planned)
            .as_str()
            .to_owned(),
        host_school_id: input.host_school_id.map(DbUuid),
        place: optional_text(input.place.as_deref()),
        work_plan_objective: optional_text(input.work_plan_objective.as_deref()),
        agenda: text_list(input.agenda)?,
        evidence: serde_json::to_string(&evidence).map_err(ApiError::internal)?,
        reflection: optional_text(input.reflection.as_deref()),
        notes: optional_text(input.notes.as_deref()),
    };
    let nil = DbUuid(Uuid::nil());
    let parts = SessionParts {
        attendance: attendance
            .into_iter()
            .map(|(person, status)| AttendanceRow {
                session_id: nil,
                person_id: DbUuid(person),
                status: status.as_str().to_owned(),
            })
            .collect(),
        counts: input
            .participant_counts
            .unwrap_or_default()
            .into_iter()
            .map(|c| CountRow {
                session_id: nil,
                ordinal: 0,
                role: c.role.as_str().to_owned(),
                unit: c.unit.unwrap_or(CountUnit::People).as_str().to_owned(),
                count: c.count,
                invited: c.invited,
                label: optional_text(c.label.as_deref()),
            })
            .collect(),
        agreements: agreement_rows,
    };
    Ok((data, parts))
}

impl Session {
    pub fn from_record(record: SessionRecord) -> ApiResult<Session> {
        let SessionRecord {
            session: row,
            parts,
        } = record;
        let id = row.id.0;
        let corrupt =
            |what: &str| ApiError::internal(anyhow::anyhow!("session {id} has a bad {what}"));
        let date = |value: Option<&str>, what: &str| {
            value
                .map(|d| parse_date(d).ok_or_else(|| corrupt(what)))
                .transpose()
        };
        Ok(Session {
            id,
            network_id: row.network_id.0,
            date: date(row.date.as_deref(), "date")?,
            modality: row
                .modality
                .as_deref()
                .map(|m| m.parse().map_err(|()| corrupt("modality")))
                .transpose()?,
            status: row.status.parse().map_err(|()| corrupt("status"))?,
            host_school_id: row.host_school_id.map(|h| h.0),
            agenda: serde_json::from_str(&row.agenda).map_err(|_| corrupt("agenda"))?,
            evidence: serde_json::from_str(&row.evidence).map_err(|_| corrupt("evidence"))?,
            attendance: parts
                .attendance
                .into_iter()
                .map(|a| {
                    Ok((
                        a.person_id.0,
                        a.status.parse().map_err(|()| corrupt("attendance"))?,
                    ))
                })
                .collect::<ApiResult<_>>()?,
            participant_counts: parts
                .counts
                .into_iter()
                .map(|c| {
                    Ok(ParticipantCount {
                        role: c.role.parse().map_err(|()| corrupt("count role"))?,
                        unit: Some(c.unit.parse().map_err(|()| corrupt("count unit"))?),
                        count: c.count,
                        invited: c.invited,
                        label: c.label,
                    })
                })
                .collect::<ApiResult<_>>()?,
            agreements: parts
                .agreements
                .into_iter()
                .map(|a| {
                    Ok(Agreement {
                        id: a.id.0,
                        owner_person_id: a.owner_person_id.map(|p| p.0),
                        owner_school_id: a.owner_school_id.map(|s| s.0),
                        due_on: date(a.due_on.as_deref(), "due_on")?,
                        status: a.status.parse().map_err(|()| corrupt("agreement status"))?,
                        followed_up_in: a.followed_up_in.map(|s| s.0),
                        done_on: date(a.done_on.as_deref(), "done_on")?,
                        text: a.text,
                    })
                })
                .collect::<ApiResult<_>>()?,
            title: row.title,
            start_time: row.start_time,
            duration_minutes: row.duration_minutes,
            place: row.place,
            work_plan_objective: row.work_plan_objective,
            reflection: row.reflection,
            notes: row.notes,
            created_at: row.created_at.get(),
            updated_at: row.updated_at.get(),
        })
    }

    /// The writable fields, as a body: what a PATCH is merged into.
    fn as_input(&self) -> Value {
        json!({
            "title": self.title,
            "date": self.date,
            "start_time": self.start_time,
            "duration_minutes": self.duration_minutes,
            "modality": self.modality,
            "status": self.status,
            "host_school_id": self.host_school_id,
            "place": self.place,
            "work_plan_objective": self.work_plan_objective,
            "agenda": self.agenda,
            "attendance": self.attendance,
            "participant_counts": self.participant_counts,
            "agreements": self.agreements,
            "evidence": self.evidence,
            "reflection": self.reflection,
            "notes": self.notes,
        })
    }
}

/// A page of sessions.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"items": [], "next_cursor": null}))]
pub struct SessionPage {
    pub items: Vec<Session>,
    /// Pass as `cursor` for the next page; `null` on the last page.
    pub next_cursor: Option<String>,
}

/// Filters of `GET /api/v1/networks/{id}/sessions`.
#[derive(Debug, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct NetworkSessionListParams {
    /// Only sessions on or after this day (`YYYY-MM-DD`).
    #[param(example = "2017-01-01")]
    pub from: Option<NaiveDate>,
    /// Only sessions on or before this day (`YYYY-MM-DD`).
    #[param(example = "2017-12-31")]
    pub to: Option<NaiveDate>,
    /// Only sessions hosted by this school.
    pub host_school_id: Option<Uuid>,
    /// Only these modalities (repeatable).
    #[param(inline)]
    pub modality: Option<Vec<Modality>>,
    /// Only these statuses (repeatable).
    #[param(inline)]
    pub status: Option<Vec<SessionStatus>>,
    /// Page size, 1-500.
    #[param(minimum = 1, maximum = 500, default = 50)]
    pub limit: Option<i64>,
    /// The `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

/// Filters of `GET /api/v1/sessions`.
#[derive(Debug, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SessionListParams {
    /// Only this network's sessions.
    pub network_id: Option<Uuid>,
    /// Only sessions of networks whose territory is in this territory's subtree (key or id).
    #[param(example = "CL-09")]
    pub territory: Option<String>,
    /// Only sessions on or after this day (`YYYY-MM-DD`).
    #[param(example = "2017-01-01")]
    pub from: Option<NaiveDate>,
    /// Only sessions on or before this day (`YYYY-MM-DD`).
    #[param(example = "2017-12-31")]
    pub to: Option<NaiveDate>,
    /// Only sessions hosted by this school.
    pub host_school_id: Option<Uuid>,
    /// Only these modalities (repeatable).
    #[param(inline)]
    pub modality: Option<Vec<Modality>>,
    /// Only these statuses (repeatable).
    #[param(inline)]
    pub status: Option<Vec<SessionStatus>>,
    /// Page size, 1-500.
    #[param(minimum = 1, maximum = 500, default = 50)]
    pub limit: Option<i64>,
    /// The `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

const NETWORK_LIST_PARAMS: &[&str] = &[
    "from",
    "to",
    "host_school_id",
    "modality",
    "status",
    "limit",
    "cursor",
];

const LIST_PARAMS: &[&str] = &[
    "network_id",
    "territory",
    "from",
    "to",
    "host_school_id",
    "modality",
    "status",
    "limit",
    "cursor",
];

/// The filters both lists share.
fn read_filter(reader: &mut QueryReader<'_>) -> SessionFilter {
    let modalities: Vec<Modality> = reader.choices("modality", Modality::NAMES);
    let statuses: Vec<SessionStatus> = reader.choices("status", SessionStatus::NAMES);
    let filter = SessionFilter {
        from: reader.date("from").map(|d| d.to_string()),
        to: reader.date("to").map(|d| d.to_string()),
        host_school_id: reader.uuid("host_school_id"),
        modalities: modalities.iter().map(|m| m.as_str().to_owned()).collect(),
        statuses: statuses.iter().map(|s| s.as_str().to_owned()).collect(),
        page: reader.page(),
        ..SessionFilter::default()
    };
    if filter
        .page
        .after
        .as_deref()
        .is_some_and(|c| NameCursor::decode(c).is_none())
    {
        reader.issue("cursor", IssueKind::InvalidCursor);
    }
    filter
}

fn page_of(records: Vec<SessionRecord>, filter: &SessionFilter) -> ApiResult<SessionPage> {
    let (records, next) = into_page(records, &filter.page, |r| {
        NameCursor::encode(&r.session.sort_key, r.session.id.0)
    });
    Ok(SessionPage {
        items: records
            .into_iter()
            .map(Session::from_record)
            .collect::<ApiResult<_>>()?,
        next_cursor: next,
    })
}

/// List a network's sessions.
///
/// By date (undated sessions first), with attendance, head counts, agreements and evidence.
/// Filter by date range, host school, modality and status.
#[utoipa::path(
    tag = "sessions",
    operation_id = "list_network_sessions",
    params(("id" = Uuid, Path, description = "The network's id."), NetworkSessionListParams),
    responses(
        (status = 200, description = "A page of sessions.", body = SessionPage),
        (status = 400, response = responses::BadRequest),
        (status = 401, response = responses::Unauthorized),
        (status = 403, response = responses::Forbidden),
        (status = 404, response = responses::NotFound),
        (status = 503, response = responses::Unavailable),
    ),
    security(("bearer" = ["sessions:read"]))
)]
#[get("/networks/{id}/sessions")]
pub async fn list_network_sessions(
    auth: Authorized<SessionsRead>,
    query: QueryParams,
    path: web::Path<String>,
    db: web::Data<Db>,
) -> ApiResult<Json<SessionPage>> {
    let mut reader = query.reader(NETWORK_LIST_PARAMS);
    let mut filter = read_filter(&mut reader);
    reader.finish()?;
    let id = path_id(Resource::Network, &path)?;
    filter.network_id = Some(id);
    let scope = TerritoryScope::of(&auth.principal);
    let page_filter = filter.clone();
    let records = db
        .read(move |conn| {
            networks_repo::find(conn, id, &scope)?
                .ok_or_else(|| ApiError::not_found(Resource::Network, id))?;
            Ok(repo::list(conn, &filter, &scope)?)
        })
        .await?;
    Ok(Json(page_of(records, &page_filter)?))
}

/// List sessions.
///
/// The sessions of every network the caller sees, by date (undated sessions first). Filter by
/// network, territory (of the network), date range, host school, modality and status.
#[utoipa::path(
    tag = "sessions",
    operation_id = "list_sessions",
    params(SessionListParams),
    responses(
        (status = 200, description = "A page of sessions.", body = SessionPage),
        (status = 400, response = responses::BadRequest),
        (status = 401, response = responses::Unauthorized),
        (status = 403, response = responses::Forbidden),
        (status = 404, response = responses::UnknownReference),
        (status = 503, response = responses::Unavailable),
    ),
    security(("bearer" = ["sessions:read"]))
)]
#[get("/sessions")]
pub async fn list_sessions(
    auth: Authorized<SessionsRead>,
    query: QueryParams,
    db: web::Data<Db>,
    catalogue: web::Data<Catalogue>,
) -> ApiResult<Json<SessionPage>> {
    let mut reader = query.reader(LIST_PARAMS);
    let mut filter = read_filter(&mut reader);
    let network_id = reader.uuid("network_id");
    let territory = reader
        .territory("territory", &catalogue)
        .map(|t| t.path.clone());
    reader.finish()?;
    filter.territory_path = territory.clone();
    let scope = TerritoryScope::of(&auth.principal);
    let page_filter = filter.clone();
    let records = db
        .read(move |conn| {
            let mut filter = filter.clone();
            if let Some(id) = network_id {
                // One network: it must be visible and, with a territory, inside it.
                let inside = match networks_repo::find(conn, id, &scope)? {
                    Some(network) => territory
                        .as_deref()
                        .is_none_or(|path| network.territory_path.starts_with(path)),
                    None => false,
                };
                if !inside {
                    return Ok(Vec::new());
                }
                filter.network_id = Some(id);
            }
            Ok(repo::list(conn, &filter, &scope)?)
        })
        .await?;
    Ok(Json(page_of(records, &page_filter)?))
}

/// Record a session of a network.
///
/// Planned or held, with its attendance, head counts, agreements and evidence. The network's
/// own territory must be the caller's. Answers 201 with the session, its `Location` and
/// `ETag`.
#[utoipa::path(
    tag = "sessions",
    operation_id = "create_network_session",
    params(("id" = Uuid, Path, description = "The network's id.")),
    request_body(content = SessionInput, description = "The session."),
    responses(
        (status = 201, description = "Created.", body = Session,
            headers(("ETag" = String, description = "The version, for If-Match."),
                    ("Location" = String, description = "The session's URL."))),
        (status = 400, response = responses::MalformedBody),
        (status = 401, response = responses::Unauthorized),
        (status = 403, response = responses::ForbiddenTerritory),
        (status = 404, response = responses::NotFound),
        (status = 409, response = responses::Conflict),
        (status = 413, response = responses::PayloadTooLarge),
        (status = 415, response = responses::UnsupportedMediaType),
        (status = 422, response = responses::UnprocessableEntity),
        (status = 503, response = responses::Unavailable),
    ),
    security(("bearer" = ["sessions:write"]))
)]
#[post("/networks/{id}/sessions")]
pub async fn create_network_session(
    auth: Authorized<SessionsWrite>,
    _query: NoParams,
    path: web::Path<String>,
    body: web::Json<Value>,
    db: web::Data<Db>,
) -> ApiResult<HttpResponse> {
    let network_id = path_id(Resource::Network, &path)?;
    let input = checked::<SessionInput>("create_network_session", &body)?;
    let scope = TerritoryScope::of(&auth.principal);
    let record = db
        .write(move |tx| {
            let network = writable(tx.conn(), network_id, &scope)?;
            let (data, parts) = validate(input, &network, None, &scope, tx.conn())?;
            Ok(repo::insert(tx, Uuid::now_v7(), &network, &data, &parts)?)
        })
        .await?;
    let version = record.session.version;
    let session = Session::from_record(record)?;
    Ok(created(
        format!("/api/v1/sessions/{}", session.id),
        version,
        &session,
    ))
}

/// Get a session.
///
/// With its `ETag`; `If-None-Match` with the current ETag answers 304.
#[utoipa::path(
    tag = "sessions",
    operation_id = "get_session",
    params(("id" = Uuid, Path, description = "The session's id.")),
    responses(
        (status = 200, description = "The session.", body = Session,
            headers(("ETag" = String, description = "The version, for If-Match and If-None-Match."))),
        (status = 304, description = "Not modified: the `If-None-Match` ETag is current."),
        (status = 400, response = responses::BadRequest),
        (status = 401, response = responses::Unauthorized),
        (status = 403, response = responses::Forbidden),
        (status = 404, response = responses::NotFound),
        (status = 503, response = responses::Unavailable),
    ),
    security(("bearer" = ["sessions:read"]))
)]
#[get("/sessions/{id}")]
pub async fn get_session(
    auth: Authorized<SessionsRead>,
    _query: NoParams,
    path: web::Path<String>,
    preconditions: Preconditions,
    db: web::Data<Db>,
) -> ApiResult<HttpResponse> {
    let id = path_id(Resource::Session, &path)?;
    let scope = TerritoryScope::of(&auth.principal);
    let (record, _) = db
        .read_short(move |conn| Ok(repo::find(conn, id, &scope)?))
        .await?
        .ok_or_else(|| ApiError::not_found(Resource::Session, id))?;
    let version = record.session.version;
    if preconditions.not_modified(version) {
        return Ok(not_modified(version));
    }
    Ok(with_etag(
        HttpResponse::Ok(),
        version,
        &Session::from_record(record)?,
    ))
}

/// The session and its network, for a write: 404 when the caller does not see it, 403 when
/// its network is seen only through a member school.
fn writable_session(
    conn: &mut DbConnection,
    id: Uuid,
    scope: &TerritoryScope,
) -> ApiResult<(SessionRecord, NetworkRow)> {
    let (record, network) =
        repo::find(conn, id, scope)?.ok_or_else(|| ApiError::not_found(Resource::Session, id))?;
    let network = writable(conn, network.id.0, scope)?;
    Ok((record, network))
}

/// Replaces (PUT) or merges (PATCH) a session.
async fn update(
    auth: Authorized<SessionsWrite>,
    raw_id: &str,
    body: Value,
    merge: bool,
    preconditions: Preconditions,
    db: web::Data<Db>,
) -> ApiResult<HttpResponse> {
    let id = path_id(Resource::Session, raw_id)?;
    let replacement = if merge {
        check_patch("update_session", &body)?;
        None
    } else {
        Some(checked::<SessionInput>("replace_session", &body)?)
    };
    let scope = TerritoryScope::of(&auth.principal);
    let record = db
        .write(move |tx| {
            let (current, network) = writable_session(tx.conn(), id, &scope)?;
            preconditions.check_write(current.session.version)?;
            let (data, parts) = match replacement {
                Some(input) => validate(input, &network, Some(&current), &scope, tx.conn())?,
                None => {
                    let document = Session::from_record(current.clone())?;
                    let input: SessionInput =
                        merged("replace_session", document.as_input(), &body)?;
                    in_state(validate(input, &network, Some(&current), &scope, tx.conn()))?
                }
            };
            match repo::update(tx, &network, &current.session, &data, &parts)? {
                UpdateOutcome::Done(record) => Ok(record),
                UpdateOutcome::Concurrent => Err(ApiError::ConcurrentChange),
            }
        })
        .await?;
    let version = record.session.version;
    Ok(with_etag(
        HttpResponse::Ok(),
        version,
        &Session::from_record(record)?,
    ))
}

/// Replace a session.
///
/// The whole session, as in `POST`; agreements that keep their `id` stay the same
/// agreements. With `If-Match`, answers 412 if it changed since.
#[utoipa::path(
    tag = "sessions",
    operation_id = "replace_session",
    params(("id" = Uuid, Path, description = "The session's id.")),
    request_body(content = SessionInput, description = "The session, whole."),
    responses(
        (status = 200, description = "Replaced.", body = Session,
            headers(("ETag" = String, description = "The new version."))),
        (status = 400, response = responses::MalformedBody),
        (status = 401, response = responses::Unauthorized),
        (status = 403, response = responses::ForbiddenTerritory),
        (status = 404, response = responses::NotFound),
        (status = 409, response = responses::Conflict),
        (status = 412, response = responses::PreconditionFailed),
        (status = 413, response = responses::PayloadTooLarge),
        (status = 415, response = responses::UnsupportedMediaType),
        (status = 422, response = responses::UnprocessableEntity),
        (status = 503, response = responses::Unavailable),
    ),
    security(("bearer" = ["sessions:write"]))
)]
#[put("/sessions/{id}")]
pub async fn replace_session(
    auth: Authorized<SessionsWrite>,
    _query: NoParams,
    path: web::Path<String>,
    body: web::Json<Value>,
    preconditions: Preconditions,
    db: web::Data<Db>,
) -> ApiResult<HttpResponse> {
    update(auth, &path, body.into_inner(), false, preconditions, db).await
}

/// Change a session.
///
/// A JSON merge patch (RFC 7396): the fields given replace (lists and attendance whole),
/// `null` removes an optional field; typically `{"status": "held", "attendance": {…}}` after
/// the session. With `If-Match`, answers 412 if it changed since.
#[utoipa::path(
    tag = "sessions",
    operation_id = "update_session",
    params(("id" = Uuid, Path, description = "The session's id.")),
    request_body(content = SessionPatch, description = "The fields to change.",
        content_type = "application/merge-patch+json"),
    responses(
        (status = 200, description = "Changed.", body = Session,
            headers(("ETag" = String, description = "The new version."))),
        (status = 400, response = responses::MalformedBody),
        (status = 401, response = responses::Unauthorized),
        (status = 403, response = responses::ForbiddenTerritory),
        (status = 404, response = responses::NotFound),
        (status = 409, response = responses::Conflict),
        (status = 412, response = responses::PreconditionFailed),
        (status = 413, response = responses::PayloadTooLarge),
        (status = 415, response = responses::UnsupportedMediaType),
        (status = 422, response = responses::UnprocessableEntity),
        (status = 503, response = responses::Unavailable),
    ),
    security(("bearer" = ["sessions:write"]))
)]
#[patch("/sessions/{id}")]
pub async fn update_session(
    auth: Authorized<SessionsWrite>,
    _query: NoParams,
    path: web::Path<String>,
    body: web::Json<Value>,
    preconditions: Preconditions,
    db: web::Data<Db>,
) -> ApiResult<HttpResponse> {
    update(auth, &path, body.into_inner(), true, preconditions, db).await
}

/// Delete a session.
///
/// With its attendance, head counts and agreements. Answers 409 while an agreement of another
/// session names it as where it was followed up. With `If-Match`, answers 412 if it changed
/// since.
#[utoipa::path(
    tag = "sessions",
    operation_id = "delete_session",
    params(("id" = Uuid, Path, description = "The session's id.")),
    responses(
        (status = 204, description = "Deleted."),
        (status = 400, response = responses::BadRequest),
        (status = 401, response = responses::Unauthorized),
        (status = 403, response = responses::ForbiddenTerritory),
        (status = 404, response = responses::NotFound),
        (status = 409, response = responses::Conflict),
        (status = 412, response = responses::PreconditionFailed),
        (status = 503, response = responses::Unavailable),
    ),
    security(("bearer" = ["sessions:write"]))
)]
#[delete("/sessions/{id}")]
pub async fn delete_session(
    auth: Authorized<SessionsWrite>,
    _query: NoParams,
    path: web::Path<String>,
    preconditions: Preconditions,
    db: web::Data<Db>,
) -> ApiResult<HttpResponse> {
    let id = path_id(Resource::Session, &path)?;
    let scope = TerritoryScope::of(&auth.principal);
    db.write(move |tx| {
        let (current, network) = writable_session(tx.conn(), id, &scope)?;
        preconditions.check_write(current.session.version)?;
        if repo::is_follow_up_elsewhere(tx.conn(), id)? {
            return Err(ApiError::InUse);
        }
        match repo::delete(tx, &network, &current.session)? {
            UpdateOutcome::Done(()) => Ok(()),
            UpdateOutcome::Concurrent => Err(ApiError::ConcurrentChange),
        }
    })
    .await?;
    Ok(HttpResponse::NoContent().finish())
}

// Agreements across a network's sessions.

/// An agreement with the session where it was reached.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(example = json!({
    "id": "019ab3c2-7d10-7a3e-8e44-2f7c1b9d0e77",
    "text": "Cada escuela presenta en la próxima sesión cómo sus sellos aparecen en el PME.",
    "owner_person_id": null,
    "owner_school_id": "56109f40-17b6-42a2-80a0-1ee14ff99828",
    "due_on": "2017-05-10",
    "status": "open",
    "followed_up_in": null,
    "done_on": null,
    "session_id": "019ab3c2-7d10-7a3e-8e44-2f7c1b9d0e88",
    "session_title": "Los sellos del PEI en las acciones del PME",
    "session_date": "2017-04-12"
}))]
pub struct NetworkAgreement {
    pub id: Uuid,
    pub text: String,
    pub owner_person_id: Option<Uuid>,
    pub owner_school_id: Option<Uuid>,
    pub due_on: Option<NaiveDate>,
    pub status: AgreementStatus,
    pub followed_up_in: Option<Uuid>,
    /// The day it was done, when known.
    pub done_on: Option<NaiveDate>,
    /// The session where it was reached.
    pub session_id: Uuid,
    pub session_title: String,
    pub session_date: Option<NaiveDate>,
}

/// A page of a network's agreements.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"items": [], "next_cursor": null}))]
pub struct AgreementPage {
    pub items: Vec<NetworkAgreement>,
    /// Pass as `cursor` for the next page; `null` on the last page.
    pub next_cursor: Option<String>,
}

/// Filters of `GET /api/v1/networks/{id}/agreements`.
#[derive(Debug, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AgreementListParams {
    /// Only these statuses (repeatable).
    #[param(inline)]
    pub status: Option<Vec<AgreementStatus>>,
    /// `true`: only open agreements whose due date has passed (before today, UTC).
    pub overdue: Option<bool>,
    /// Only agreements this person owns.
    pub owner_person_id: Option<Uuid>,
    /// Only agreements this school owns.
    pub owner_school_id: Option<Uuid>,
    /// Page size, 1-500.
    #[param(minimum = 1, maximum = 500, default = 50)]
    pub limit: Option<i64>,
    /// The `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

const AGREEMENT_PARAMS: &[&str] = &[
    "status",
    "overdue",
    "owner_person_id",
    "owner_school_id",
    "limit",
    "cursor",
];

/// List a network's agreements.
///
/// The agreements of all its sessions, in the order they were recorded, each with its
/// session: what is open, what is overdue, what a school or a person owes.
#[utoipa::path(
    tag = "sessions",
    operation_id = "list_network_agreements",
    params(("id" = Uuid, Path, description = "The network's id."), AgreementListParams),
    responses(
        (status = 200, description = "A page of agreements.", body = AgreementPage),
        (status = 400, response = responses::BadRequest),
        (status = 401, response = responses::Unauthorized),
        (status = 403, response = responses::Forbidden),
        (status = 404, response = responses::NotFound),
        (status = 503, response = responses::Unavailable),
    ),
    security(("bearer" = ["sessions:read"]))
)]
#[get("/networks/{id}/agreements")]
pub async fn list_network_agreements(
    auth: Authorized<SessionsRead>,
    query: QueryParams,
    path: web::Path<String>,
    db: web::Data<Db>,
) -> ApiResult<Json<AgreementPage>> {
    let mut reader = query.reader(AGREEMENT_PARAMS);
    let statuses: Vec<AgreementStatus> = reader.choices("status", AgreementStatus::NAMES);
    let filter = AgreementFilter {
        statuses: statuses.iter().map(|s| s.as_str().to_owned()).collect(),
        overdue_on: reader
            .boolean("overdue")
            .filter(|overdue| *overdue)
            .map(|_| Utc::now().date_naive().to_string()),
        owner_person_id: reader.uuid("owner_person_id"),
        owner_school_id: reader.uuid("owner_school_id"),
        page: reader.page(),
    };
    // Agreement lists page by id, with cursors of the shared form (see the member lists).
    if filter
        .page
        .after
        .as_deref()
        .is_some_and(|c| NameCursor::decode(c).is_none())
    {
        reader.issue("cursor", IssueKind::InvalidCursor);
    }
    reader.finish()?;
    let id = path_id(Resource::Network, &path)?;
    let scope = TerritoryScope::of(&auth.principal);
    let page = filter.page.clone();
    let rows = db
        .read(move |conn| {
            networks_repo::find(conn, id, &scope)?
                .ok_or_else(|| ApiError::not_found(Resource::Network, id))?;
            Ok(repo::list_agreements(conn, id, &filter)?)
        })
        .await?;
    let (rows, next) = into_page(rows, &page, |(agreement, _)| {
        NameCursor::encode("", agreement.id.0)
    });
    let items = rows
        .into_iter()
        .map(|(a, session)| {
            let corrupt = || ApiError::internal(anyhow::anyhow!("agreement {} is corrupt", a.id.0));
            Ok(NetworkAgreement {
                id: a.id.0,
                owner_person_id: a.owner_person_id.map(|p| p.0),
                owner_school_id: a.owner_school_id.map(|s| s.0),
                due_on: a
                    .due_on
                    .as_deref()
                    .map(|d| parse_date(d).ok_or_else(corrupt))
                    .transpose()?,
                status: a.status.parse().map_err(|()| corrupt())?,
                followed_up_in: a.followed_up_in.map(|s| s.0),
                done_on: a
                    .done_on
                    .as_deref()
                    .map(|d| parse_date(d).ok_or_else(corrupt))
                    .transpose()?,
                text: a.text,
                session_id: session.id.0,
                session_date: session
                    .date
                    .as_deref()
                    .map(|d| parse_date(d).ok_or_else(corrupt))
                    .transpose()?,
                session_title: session.title,
            })
        })
        .collect::<ApiResult<_>>()?;
    Ok(Json(AgreementPage {
        items,
        next_cursor: next,
    }))
}

// Summary.

/// Sessions of the year by status.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(example = json!({"scheduled": 10, "held": 8, "pending": 1, "cancelled": 1, "held_rate": 0.8}))]
pub struct SessionCounts {
    /// Every session dated in the year, whatever its status: what was planned.
    pub scheduled: i64,
    /// Those held.
    pub held: i64,
    /// Those still planned.
    pub pending: i64,
    /// Those cancelled.
    pub cancelled: i64,
    /// `held / scheduled`, `null` without sessions.
    pub held_rate: Option<f64>,
}

/// Attendance at the year's held sessions.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(example = json!({"present": 90, "absent": 8, "excused": 6, "counted": 0, "invited": 0,
    "rate": 0.8654}))]
pub struct AttendanceSummary {
    /// Person-by-person records: present, absent, excused.
    pub present: i64,
    pub absent: i64,
    pub excused: i64,
    /// People counted in head counts (unit `people`).
    pub counted: i64,
    /// The invited of head counts that give them.
    pub invited: i64,
    /// `(present + counted with invited) / (present + absent + excused + invited)`, `null`
    /// when nothing can say it.
    pub rate: Option<f64>,
}

/// Agreements reached at the year's sessions.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(example = json!({"made": 12, "open": 3, "done": 8, "dropped": 1, "overdue": 2}))]
pub struct AgreementCounts {
    pub made: i64,
    pub open: i64,
    pub done: i64,
    pub dropped: i64,
    /// Open with a due date before `as_of`.
    pub overdue: i64,
}

/// Members at the start (1 January) and end (31 December) of the year.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(example = json!({"at_start": 7, "at_end": 7, "schools_at_start": 7, "schools_at_end": 7}))]
pub struct MemberCounts {
    pub at_start: i64,
    pub at_end: i64,
    /// The school members among them.
    pub schools_at_start: i64,
    pub schools_at_end: i64,
}

/// A network's activity in a year.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(example = json!({
    "network_id": "0f8b5f4e-8a57-5d0e-9a55-9d3f0c7e2a11",
    "year": 2017,
    "as_of": "2026-11-24",
    "sessions": {"scheduled": 10, "held": 8, "pending": 1, "cancelled": 1, "held_rate": 0.8},
    "attendance": {"present": 90, "absent": 8, "excused": 6, "counted": 0, "invited": 0,
        "rate": 0.8654},
    "distinct_hosts": 6,
    "agreements": {"made": 12, "open": 3, "done": 8, "dropped": 1, "overdue": 2},
    "members": {"at_start": 7, "at_end": 7, "schools_at_start": 7, "schools_at_end": 7}
}))]
pub struct NetworkSummary {
    pub network_id: Uuid,
    pub year: i32,
    /// The day overdue agreements are counted on (today, UTC).
    pub as_of: NaiveDate,
    pub sessions: SessionCounts,
    pub attendance: AttendanceSummary,
    /// Schools that hosted a held session.
    pub distinct_hosts: i64,
    pub agreements: AgreementCounts,
    pub members: MemberCounts,
}

/// The query of `GET /api/v1/networks/{id}/summary`.
#[derive(Debug, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SummaryParams {
    /// The year, 1900-2100.
    #[param(minimum = 1900, maximum = 2100, example = 2017)]
    pub year: i32,
}

fn ratio(numerator: i64, denominator: i64) -> Option<f64> {
    // Rounded to 4 decimals: a rate, not a measurement.
    (denominator > 0).then(|| (numerator as f64 / denominator as f64 * 10_000.0).round() / 10_000.0)
}

/// Get a network's yearly summary.
///
/// Sessions scheduled and held, attendance rate, distinct host schools, agreements (open and
/// overdue) and members at the start and end of the year: one database statement whatever the
/// number of sessions.
#[utoipa::path(
    tag = "sessions",
    operation_id = "get_network_summary",
    params(("id" = Uuid, Path, description = "The network's id."), SummaryParams),
    responses(
        (status = 200, description = "The year's summary.", body = NetworkSummary),
        (status = 400, response = responses::BadRequest),
        (status = 401, response = responses::Unauthorized),
        (status = 403, response = responses::Forbidden),
        (status = 404, response = responses::NotFound),
        (status = 503, response = responses::Unavailable),
    ),
    security(("bearer" = ["sessions:read"]))
)]
#[get("/networks/{id}/summary")]
pub async fn get_network_summary(
    auth: Authorized<SessionsRead>,
    query: QueryParams,
    path: web::Path<String>,
    db: web::Data<Db>,
) -> ApiResult<Json<NetworkSummary>> {
    let mut reader = query.reader(&["year"]);
    let year = reader.integer("year", 1900, 2100);
    if year.is_none() && !reader.has("year") {
        reader.issue("year", IssueKind::Required);
    }
    reader.finish()?;
    let year = i32::try_from(year.unwrap_or_default()).map_err(ApiError::internal)?;
    let id = path_id(Resource::Network, &path)?;
    let scope = TerritoryScope::of(&auth.principal);
    let today = Utc::now().date_naive();
    let counts = db
        .read(move |conn| {
            networks_repo::find(conn, id, &scope)?
                .ok_or_else(|| ApiError::not_found(Resource::Network, id))?;
            Ok(repo::summary(
                conn,
                id,
                &format!("{year:04}-01-01"),
                &format!("{year:04}-12-31"),
                &today.to_string(),
            )?)
        })
        .await?;
    let c = counts;
    Ok(Json(NetworkSummary {
        network_id: id,
        year,
        as_of: today,
        sessions: SessionCounts {
            scheduled: c.sessions,
            held: c.held,
            pending: c.sessions - c.held - c.cancelled,
            cancelled: c.cancelled,
            held_rate: ratio(c.held, c.sessions),
        },
        attendance: AttendanceSummary {
            present: c.present,
            absent: c.absent,
            excused: c.excused,
            counted: c.counted,
            invited: c.invited,
            rate: ratio(
                c.present + c.counted_with_invited,
                c.present + c.absent + c.excused + c.invited,
            ),
        },
        distinct_hosts: c.distinct_hosts,
        agreements: AgreementCounts {
            made: c.agreements,
            open: c.open,
            done: c.done,
            dropped: c.agreements - c.open - c.done,
            overdue: c.overdue,
        },
        members: MemberCounts {
            at_start: c.members_at_start,
            at_end: c.members_at_end,
            schools_at_start: c.schools_at_start,
            schools_at_end: c.schools_at_end,
        },
    }))
}
