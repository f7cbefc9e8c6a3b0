//! Diesel tables, one schema for both backends (see `db::sql_types` for the shared types).

diesel::table! {
    use diesel::sql_types::*;
    use crate::db::sql_types::Uuid;

    /// The territory catalogue (Chile's CUT, Colombia's DIVIPOLA), loaded from the embedded files.
    territories (id) {
        id -> Uuid,
        key -> Text,
        country -> Text,
        level -> Text,
        code -> Text,
        name -> Text,
        /// `name` folded for accent- and case-insensitive search.
        search_name -> Text,
        parent_id -> Nullable<Uuid>,
        depth -> SmallInt,
        /// Keys from the root: `/CL/CL-13/CL-131/CL-13101/`.
        path -> Text,
    }
}

diesel::table! {
    use diesel::sql_types::*;
    use crate::db::sql_types::UtcTimestamp;

    /// Which version of each embedded reference data set is loaded.
    reference_data (name) {
        name -> Text,
        checksum -> Text,
        row_count -> Integer,
        loaded_at -> UtcTimestamp,
    }
}

diesel::table! {
    use diesel::sql_types::*;
    use crate::db::sql_types::{Uuid, UtcTimestamp};

    /// Sostenedores, DEPROV, Secretarías de Educación and ministries.
    organizations (id) {
        id -> Uuid,
        kind -> Text,
        name -> Text,
        search_name -> Text,
        country -> Text,
        territory_id -> Uuid,
        territory_path -> Text,
        rut -> Nullable<Text>,
        etc_code -> Nullable<Text>,
        secretaria_level -> Nullable<Text>,
        version -> BigInt,
        created_at -> UtcTimestamp,
        updated_at -> UtcTimestamp,
    }
}

diesel::table! {
    use diesel::sql_types::*;
    use crate::db::sql_types::{Uuid, UtcTimestamp};

    /// Schools (establecimientos educacionales) of Chile and Colombia.
    schools (id) {
        id -> Uuid,
        country -> Text,
        name -> Text,
        search_name -> Text,
        territory_id -> Uuid,
        territory_path -> Text,
        rural -> Nullable<Bool>,
        status -> Nullable<Text>,
        rbd -> Nullable<Integer>,
        rbd_dv -> Nullable<Text>,
        dependency -> Nullable<Text>,
        levels -> Text,
        sostenedor_id -> Nullable<Uuid>,
        dane_code -> Nullable<Text>,
        sector -> Nullable<Text>,
        secretaria_id -> Nullable<Uuid>,
        sedes -> Text,
        version -> BigInt,
        created_at -> UtcTimestamp,
        updated_at -> UtcTimestamp,
        /// The first-level division's path (`region_path` in `domain::territory`).
        region_path -> Text,
    }
}

diesel::table! {
    use diesel::sql_types::*;
    use crate::db::sql_types::{Uuid, UtcTimestamp};

    /// One row per write to any resource, appended in the writer's transaction.
    change_journal (seq) {
        seq -> BigInt,
        resource -> Text,
        resource_id -> Uuid,
        operation -> Text,
        at -> UtcTimestamp,
        territory_path -> Text,
        previous_territory_path -> Text,
    }
}

diesel::table! {
    use diesel::sql_types::*;
    use crate::db::sql_types::{Uuid, UtcTimestamp};

    /// Networks of schools: RME, professional learning communities, cohorts of Secretarías.
    networks (id) {
        id -> Uuid,
        name -> Text,
        search_name -> Text,
        kind -> Text,
        country -> Text,
        territory_id -> Uuid,
        territory_path -> Text,
        responsible_id -> Nullable<Uuid>,
        founded_year -> Nullable<Integer>,
        status -> Text,
        status_since -> Nullable<Text>,
        principles_and_needs -> Nullable<Text>,
        objective -> Nullable<Text>,
        idea_fuerza -> Nullable<Text>,
        mobilisation -> Text,
        collaboration -> Text,
        learnings -> Text,
        challenges -> Text,
        work_plans -> Text,
        version -> BigInt,
        created_at -> UtcTimestamp,
        updated_at -> UtcTimestamp,
    }
}

diesel::table! {
    use diesel::sql_types::*;
    use crate::db::sql_types::{Uuid, UtcTimestamp};

    /// Dated memberships of schools and organisations in networks.
    network_members (id) {
        id -> Uuid,
        network_id -> Uuid,
        school_id -> Nullable<Uuid>,
        organization_id -> Nullable<Uuid>,
        person_id -> Nullable<Uuid>,
        role -> Text,
        joined_on -> Nullable<Text>,
        left_on -> Nullable<Text>,
        version -> BigInt,
        created_at -> UtcTimestamp,
        updated_at -> UtcTimestamp,
    }
}

diesel::table! {
    use diesel::sql_types::*;
    use crate::db::sql_types::{Uuid, UtcTimestamp};

    /// People who take part in networks: directors, UTP, supervisors, Secretaría staff. No
    /// national ID numbers.
    people (id) {
        id -> Uuid,
        name -> Text,
        search_name -> Text,
        email -> Nullable<Text>,
        phone -> Nullable<Text>,
        country -> Text,
        territory_id -> Uuid,
        territory_path -> Text,
        version -> BigInt,
        created_at -> UtcTimestamp,
        updated_at -> UtcTimestamp,
    }
}

diesel::table! {
    use diesel::sql_types::*;
    use crate::db::sql_types::Uuid;

    /// Where a person works and as what; replaced whole with the person.
    person_affiliations (person_id, ordinal) {
        person_id -> Uuid,
        ordinal -> Integer,
        school_id -> Nullable<Uuid>,
        organization_id -> Nullable<Uuid>,
        position -> Text,
    }
}

diesel::table! {
    use diesel::sql_types::*;
    use crate::db::sql_types::{Uuid, UtcTimestamp};

    /// A network's sessions (meetings, workshops, encounters).
    sessions (id) {
        id -> Uuid,
        network_id -> Uuid,
        title -> Text,
        date -> Nullable<Text>,
        start_time -> Nullable<Text>,
        duration_minutes -> Nullable<Integer>,
        modality -> Nullable<Text>,
        status -> Text,
        host_school_id -> Nullable<Uuid>,
        place -> Nullable<Text>,
        work_plan_objective -> Nullable<Text>,
        agenda -> Text,
        evidence -> Text,
        reflection -> Nullable<Text>,
        notes -> Nullable<Text>,
        sort_key -> Text,
        version -> BigInt,
        created_at -> UtcTimestamp,
        updated_at -> UtcTimestamp,
    }
}

diesel::table! {
    use diesel::sql_types::*;
    use crate::db::sql_types::Uuid;

    /// Who attended a session, person by person.
    session_attendance (session_id, person_id) {
        session_id -> Uuid,
        person_id -> Uuid,
        status -> Text,
    }
}

diesel::table! {
    use diesel::sql_types::*;
    use crate::db::sql_types::Uuid;

    /// Head counts by role, for sessions too large to record person by person.
    session_participant_counts (session_id, ordinal) {
        session_id -> Uuid,
        ordinal -> Integer,
        role -> Text,
        unit -> Text,
        count -> Integer,
        invited -> Nullable<Integer>,
        label -> Nullable<Text>,
    }
}

diesel::table! {
    use diesel::sql_types::*;
    use crate::db::sql_types::Uuid;

    /// The agreements (*acuerdos*) a session reached.
    session_agreements (id) {
        id -> Uuid,
        session_id -> Uuid,
        ordinal -> Integer,
        text -> Text,
        owner_person_id -> Nullable<Uuid>,
        owner_school_id -> Nullable<Uuid>,
        due_on -> Nullable<Text>,
        status -> Text,
        followed_up_in -> Nullable<Uuid>,
        done_on -> Nullable<Text>,
    }
}

diesel::table! {
    use diesel::sql_types::*;
    use crate::db::sql_types::Uuid;

    /// Management catalogues, one row per version (built in, from `catalog/management`).
    catalogues (id) {
        id -> Uuid,
        code -> Text,
        version -> Text,
        name -> Text,
        kind -> Text,
        country -> Text,
        valid_from -> Nullable<Integer>,
        valid_to -> Nullable<Integer>,
        source -> Nullable<Text>,
    }
}

diesel::table! {
    use diesel::sql_types::*;
    use crate::db::sql_types::{Uuid, UtcTimestamp};

    /// The items of a catalogue: dimensions, subdimensions, planes normativos, áreas, processes.
    catalogue_items (id) {
        id -> Uuid,
        catalogue_id -> Uuid,
        code -> Text,
        name -> Text,
        level -> Text,
        parent_id -> Nullable<Uuid>,
        legal_basis -> Nullable<Text>,
        ordinal -> Integer,
        builtin -> Bool,
        version -> BigInt,
        created_at -> UtcTimestamp,
        updated_at -> UtcTimestamp,
    }
}

diesel::table! {
    use diesel::sql_types::*;
    use crate::db::sql_types::{Uuid, UtcTimestamp};

    /// The revisions of schools' PEIs; the highest is the current one.
    pei_revisions (id) {
        id -> Uuid,
        school_id -> Uuid,
        revision -> BigInt,
        period_from -> Integer,
        period_to -> Integer,
        vision -> Nullable<Text>,
        mission -> Nullable<Text>,
        principles -> Text,
        school_values -> Text,
        profiles -> Text,
        created_at -> UtcTimestamp,
    }
}

diesel::table! {
    use diesel::sql_types::*;
    use crate::db::sql_types::Uuid;

    /// The sellos educativos of each PEI revision; a sello keeps its id across revisions.
    pei_sellos (revision_id, id) {
        revision_id -> Uuid,
        id -> Uuid,
        ordinal -> Integer,
        name -> Text,
        description -> Nullable<Text>,
    }
}

diesel::table! {
    use diesel::sql_types::*;
    use crate::db::sql_types::{Uuid, UtcTimestamp};

    /// Plans (PME, PMI, PAM, planes normativos), owned by a school or an organisation.
    plans (id) {
        id -> Uuid,
        kind -> Text,
        school_id -> Nullable<Uuid>,
        organization_id -> Nullable<Uuid>,
        country -> Text,
        territory_path -> Text,
        title -> Text,
        period_from -> Integer,
        period_to -> Integer,
        phase -> Nullable<Text>,
        catalogue_id -> Uuid,
        normative_item_id -> Nullable<Uuid>,
        self_assessment -> Text,
        version -> BigInt,
        created_at -> UtcTimestamp,
        updated_at -> UtcTimestamp,
    }
}

diesel::table! {
    use diesel::sql_types::*;
    use crate::db::sql_types::Uuid;

    /// The items of a plan's tree: objectives, goals, strategies and actions.
    plan_items (id) {
        id -> Uuid,
        plan_id -> Uuid,
        parent_id -> Nullable<Uuid>,
        level -> Text,
        ordinal -> Integer,
        title -> Text,
        catalogue_item_id -> Nullable<Uuid>,
        indicator -> Nullable<Text>,
        starts_on -> Nullable<Text>,
        ends_on -> Nullable<Text>,
        status -> Nullable<Text>,
        executed_percent -> Nullable<Integer>,
        detail -> Text,
    }
}

diesel::table! {
    use diesel::sql_types::*;
    use crate::db::sql_types::{Uuid, UtcTimestamp};

    /// Typed, dated links from a plan's items to what they articulate with.
    plan_links (id) {
        id -> Uuid,
        plan_id -> Uuid,
        item_id -> Uuid,
        link_type -> Text,
        target_id -> Nullable<Uuid>,
        target_text -> Nullable<Text>,
        valid_from -> Text,
        valid_to -> Nullable<Text>,
        note -> Nullable<Text>,
        version -> BigInt,
        created_at -> UtcTimestamp,
    }
}

diesel::table! {
    use diesel::sql_types::*;
    use crate::db::sql_types::{Uuid, UtcTimestamp};

    /// Short-cycle improvement plans (PDSA), owned by a school or a network; aim, PDSA cycles
    /// and measures as JSON text.
    improvement_cycles (id) {
        id -> Uuid,
        school_id -> Nullable<Uuid>,
        network_id -> Nullable<Uuid>,
        territory_path -> Text,
        title -> Text,
        problem_of_practice -> Text,
        aim -> Text,
        driver -> Text,
        change_idea -> Text,
        status -> Text,
        pdsa -> Text,
        measures -> Text,
        version -> BigInt,
        created_at -> UtcTimestamp,
        updated_at -> UtcTimestamp,
    }
}

diesel::table! {
    use diesel::sql_types::*;
    use crate::db::sql_types::{Uuid, UtcTimestamp};

    /// Mentoring visits (mentorías pedagógicas) to a school; agreements as JSON text.
    mentoring_visits (id) {
        id -> Uuid,
        school_id -> Uuid,
        territory_path -> Text,
        network_id -> Nullable<Uuid>,
        mentor_person_id -> Uuid,
        mentee_person_id -> Uuid,
        mentee_role -> Text,
        visited_on -> Text,
        focus -> Text,
        observations -> Nullable<Text>,
        agreements -> Text,
        follow_up -> Nullable<Text>,
        follow_up_on -> Nullable<Text>,
        version -> BigInt,
        created_at -> UtcTimestamp,
        updated_at -> UtcTimestamp,
    }
}

diesel::table! {
    use diesel::sql_types::*;
    use crate::db::sql_types::{Uuid, UtcTimestamp};

    /// Indicator definitions: the built-in catalogue and those added.
    indicators (id) {
        id -> Uuid,
        code -> Text,
        name_es -> Text,
        name_en -> Text,
        description -> Nullable<Text>,
        unit -> Text,
        value_type -> Text,
        aggregation_territory -> Text,
        aggregation_time -> Text,
        formula -> Nullable<Text>,
        disaggregations -> Text,
        periodicity -> Text,
        source -> Nullable<Text>,
        country -> Nullable<Text>,
        mapping -> Nullable<Text>,
        builtin -> Bool,
        version -> BigInt,
        created_at -> UtcTimestamp,
        updated_at -> UtcTimestamp,
    }
}

diesel::table! {
    use diesel::sql_types::*;
    use crate::db::sql_types::{Uuid, UtcTimestamp};

    /// Indicator values, by indicator, org unit, period and disaggregation.
    indicator_values (id) {
        id -> Uuid,
        indicator_id -> Uuid,
        org_unit_kind -> Text,
        org_unit_id -> Uuid,
        territory_path -> Text,
        period -> Text,
        period_start -> Text,
        period_end -> Text,
        disaggregation -> Text,
        value -> Double,
        numerator -> Nullable<Double>,
        denominator -> Nullable<Double>,
        source -> Nullable<Text>,
        comment -> Nullable<Text>,
        version -> BigInt,
        created_at -> UtcTimestamp,
        updated_at -> UtcTimestamp,
    }
}

diesel::table! {
    use diesel::sql_types::*;
    use crate::db::sql_types::{Uuid, UtcTimestamp};

    /// Imports of indicator values run in the background, and their outcome.
    import_jobs (id) {
        id -> Uuid,
        subject -> Text,
        territories -> Text,
        status -> Text,
        strategy -> Text,
        dry_run -> Bool,
        atomic -> Bool,
        values_read -> BigInt,
        summary -> Nullable<Text>,
        error -> Nullable<Text>,
        created_at -> UtcTimestamp,
        started_at -> Nullable<UtcTimestamp>,
        finished_at -> Nullable<UtcTimestamp>,
        updated_at -> UtcTimestamp,
    }
}

diesel::table! {
    use diesel::sql_types::*;
    use crate::db::sql_types::{Uuid, UtcTimestamp};

    /// API clients: credentials for the client credentials grant (`/oauth/token`).
    api_clients (id) {
        id -> Uuid,
        name -> Text,
        contact -> Nullable<Text>,
        scopes -> Text,
        territories -> Text,
        rate_limit -> Nullable<Integer>,
        active -> Bool,
        secret_hash -> Text,
        previous_secret_hash -> Nullable<Text>,
        previous_secret_expires_at -> Nullable<UtcTimestamp>,
        created_at -> UtcTimestamp,
        updated_at -> UtcTimestamp,
        rotated_at -> Nullable<UtcTimestamp>,
        last_used_at -> Nullable<UtcTimestamp>,
        created_by -> Text,
        version -> BigInt,
    }
}

diesel::table! {
    use diesel::sql_types::*;
    use crate::db::sql_types::UtcTimestamp;

    /// Responses to POSTs sent with `Idempotency-Key`, replayed to retries for 24 hours.
    idempotency_keys (owner, key) {
        owner -> Text,
        key -> Text,
        fingerprint -> Text,
        state -> Text,
        status -> Nullable<Integer>,
        headers -> Nullable<Text>,
        body -> Nullable<Binary>,
        created_at -> UtcTimestamp,
        expires_at -> UtcTimestamp,
    }
}

diesel::joinable!(network_members -> networks (network_id));
diesel::joinable!(plan_items -> plans (plan_id));
diesel::joinable!(indicator_values -> indicators (indicator_id));
diesel::joinable!(plan_links -> plans (plan_id));
diesel::joinable!(pei_sellos -> pei_revisions (revision_id));
diesel::joinable!(catalogue_items -> catalogues (catalogue_id));
diesel::table! {
    use diesel::sql_types::*;
    use crate::db::sql_types::UtcTimestamp;

    /// The audit log: every write with its principal, request and changed fields.
    audit_log (seq) {
        seq -> BigInt,
        at -> UtcTimestamp,
        principal -> Text,
        client_id -> Nullable<Text>,
        request_id -> Nullable<Text>,
        resource -> Text,
        resource_id -> Text,
        operation -> Text,
        territory_path -> Text,
        previous_territory_path -> Text,
        changes -> Text,
    }
}

diesel::joinable!(person_affiliations -> people (person_id));
diesel::joinable!(sessions -> networks (network_id));
diesel::joinable!(session_attendance -> sessions (session_id));
diesel::joinable!(session_participant_counts -> sessions (session_id));
diesel::joinable!(session_agreements -> sessions (session_id));
diesel::joinable!(network_members -> schools (school_id));

diesel::allow_tables_to_appear_in_same_query!(
    territories,
    reference_data,
    organizations,
    schools,
    change_journal,
    networks,
    network_members,
    people,
    person_affiliations,
    sessions,
    session_attendance,
    session_participant_counts,
    session_agreements,
    catalogues,
    catalogue_items,
    pei_revisions,
    pei_sellos,
    plans,
    plan_items,
    plan_links,
    improvement_cycles,
    mentoring_visits,
    indicators,
    indicator_values,
    import_jobs,
    audit_log,
    idempotency_keys
);
