//! The OpenAPI 3.1 document: the root (info, tags, security scheme, shared responses) here, the
//! paths and schemas collected from the handlers by utoipa-actix-web.

use actix_web::App;
use serde_json::{Value, json};
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};
use utoipa_actix_web::AppExt;

use crate::error::{Problem, ProblemIssue};

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Redes API",
        description = include_str!("openapi_description.md"),
        license(name = "Apache-2.0", identifier = "Apache-2.0"),
    ),
    tags(
        (name = "territories", description = "The territory catalogue: Chile's CUT (región, \
            provincia, comuna) and Colombia's DIVIPOLA (departamento, municipio). Read-only; \
            scope `territories:read`."),
        (name = "organizations", description = "Organisations: Chilean sostenedores (DAEM, \
            corporación municipal, SLEP, particular, administración delegada), DEPROV, Colombian \
            Secretarías de Educación, ministries. Scoped to the caller's territories; scopes \
            `organizations:read`, `organizations:write`."),
        (name = "schools", description = "Schools (establecimientos educacionales): Chile's \
            RBD, dependency and levels; Colombia's DANE code, sector and sedes. Scoped to the \
            caller's territories; scopes `schools:read`, `schools:write`."),
        (name = "networks", description = "Networks of schools (Chile's Redes de Mejoramiento \
            Escolar, professional learning communities, cohorts of Colombian Secretarías) and \
            their dated members. A network is visible where its territory or one of its member \
            schools is; it is changed only where its own territory is. Scopes `networks:read`, \
            `networks:write`."),
        (name = "people", description = "People who take part in networks (directors, \
            jefes técnicos, supervisors, Secretaría staff) and their affiliations. Personal \
            data: visible only with `people:read` in the person's territory; no national ID \
            numbers are stored. Scopes `people:read`, `people:write`."),
        (name = "sessions", description = "A network's sessions (date, host school, agenda, \
            attendance person by person or as head counts, agreements, evidence, reflection) \
            and its yearly activity summary. Visible wherever the network is; written where \
            the network's own territory is. Scopes `sessions:read`, `sessions:write`."),
        (name = "plans", description = "Schools' plans and their articulation: the PEI \
            (vision, mission, sellos educativos, principles, values, profiles) with its history; \
            plans (a Chilean school's PME and planes normativos, a Colombian school's PMI, a \
            Secretaría's PAM) with their self-assessment and their tree of objectives, goals, \
            strategies and actions; typed, dated links from their items to sellos, planes \
            normativos, indicators, network objectives, agreements and improvement cycles; the \
            gap report of a school or a network; short-cycle improvement plans (aim, driver, \
            change idea, PDSA cycles, measures) of a school or a network; mentoring visits \
            (mentorías pedagógicas) to schools. Scoped through the school, Secretaría or \
            network; scopes `plans:read`, `plans:write`."),
        (name = "catalogues", description = "The management catalogues plans are articulated \
            with, as versioned data: Chile's school-management model (dimensions and \
            subdimensions, 2014 and 2020 versions), its six planes normativos with their legal \
            basis, Colombia's áreas de gestión with their processes. Read with `plans:read`; \
            national principals with `catalogues:admin` add items of their own."),
        (name = "indicators", description = "Indicators: definitions as a versioned catalogue \
            (MEN's published education statistics for Colombia, Mineduc's and the Agencia de \
            Calidad's for Chile, the platform's own), each with its unit, aggregation rules, \
            disaggregations and periodicity; and values by indicator, org unit (a territory, \
            an organisation, a school or a network), ISO-style period and disaggregation. \
            Values are scoped through their org unit's territory; scopes `indicators:read`, \
            `indicators:write`, `indicators:import` for the bulk import (JSON, a generic \
            CSV, or MEN's municipal statistics as published) and `indicators:admin` for \
            definitions of one's own (principals of a whole country)."),
        (name = "changes", description = "The change journal of every write, in commit order, \
            for integrators to sync from; scope `changes:read`."),
        (name = "audit", description = "The audit log: every write with who made it (principal, \
            API client, request id), when, and the fields it changed before and after, personal \
            data masked; written in the same transaction as the write; scope `audit:read`."),
        (name = "clients", description = "API clients: machine-to-machine credentials for the \
            OAuth 2.0 client credentials grant, each with its scopes and territories. The \
            secret is generated by the service and shown once. Scopes `clients:read`, \
            `clients:write`."),
        (name = "oauth", description = "The token endpoint (RFC 6749 client credentials), \
            token info, and the keys the service signs tokens with."),
        (name = "operations", description = "Discovery, health and metrics; no token."),
    ),
    components(
        schemas(Problem, ProblemIssue),
        responses(
            responses::BadRequest,
            responses::MalformedBody,
            responses::Unauthorized,
            responses::Forbidden,
            responses::ForbiddenTerritory,
            responses::NotFound,
            responses::Conflict,
            responses::PreconditionFailed,
            responses::PayloadTooLarge,
            responses::UnsupportedMediaType,
            responses::UnprocessableEntity,
            responses::UnknownReference,
            responses::Unavailable,
            responses::TooManyRequests,
        )
    ),
    modifiers(&BearerScheme)
)]
struct RootDoc;

struct BearerScheme;

impl Modify for BearerScheme {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("JWT")
                    .description(Some(
                        "A JWT signed with a key the installation trusts, with `sub`, `exp`, \
                         `iss`, `aud`, `scope` (space-separated scopes such as \
                         `territories:read`) and `territories` (keys or ids of the subtrees \
                         the caller may act in): from `/oauth/token` with an API client's \
                         credentials, or from a trusted issuer. In development, mint one with \
                         `redes token`.",
                    ))
                    .build(),
            ),
        );
        components.add_security_scheme(
            "basic",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Basic)
                    .description(Some(
                        "An API client's `client_id` and `client_secret`, for `/oauth/token` \
                         only (RFC 6749 §2.3.1).",
                    ))
                    .build(),
            ),
        );
    }
}

/// The whole document, as served at `/openapi.json` and committed in `openapi/openapi.json`:
/// what utoipa collects from the handlers, refined with what its attributes cannot say (see
/// [`refine`]) and with links from each created resource to the operations on it.
pub fn document() -> Result<Value, serde_json::Error> {
    let (_, mut doc) =
        crate::routes::register(App::new().into_utoipa_app().openapi(RootDoc::openapi()))
            .split_for_parts();
    doc.info.version = env!("CARGO_PKG_VERSION").to_owned();
    let mut value = serde_json::to_value(&doc)?;
    refine(&mut value);
    add_links(&mut value);
    add_idempotency(&mut value);
    Ok(value)
}

/// The document as pretty JSON with a final newline (the form committed to the repository).
pub fn document_json() -> Result<String, serde_json::Error> {
    document()
        .and_then(|doc| serde_json::to_string_pretty(&doc))
        .map(|mut json| {
            json.push('\n');
            json
        })
}

/// A period code's form (`2017`, `2017S1`, `2017Q1`, `2017-03`, `2017W12`), years 1900-2100;
/// whether its week exists (`2017W53` does not) is checked by `domain::period`.
pub const PERIOD_PATTERN: &str =
    "^(19[0-9]{2}|20[0-9]{2}|2100)(S[12]|Q[1-4]|-(0[1-9]|1[0-2])|W([1-9]|[1-4][0-9]|5[0-3]))?$";

/// An indicator's code or id.
pub const INDICATOR_PATTERN: &str = "^([A-Z][A-Z0-9_]{1,63}|[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12})$";

/// A name: at least one character that is neither blank nor NUL, and no NUL anywhere (a NUL
/// cannot be stored in PostgreSQL text).
pub const NAME_PATTERN: &str = "^[^\\u0000]*[^\\s\\u0000][^\\u0000]*$";

/// An e-mail address, loosely: something, `@`, a domain with a dot; no spaces.
pub const EMAIL_PATTERN: &str = "^[^@\\s\\u0000]+@[^@\\s\\u0000.]+(\\.[^@\\s\\u0000.]+)+$";
/// A phone number: digits, spaces, `()-`, and a leading `+`.
pub const PHONE_PATTERN: &str = "^\\+?[0-9][0-9 ()-]{5,28}$";
/// A UUID in its hyphenated form, as object keys.
pub const UUID_PATTERN: &str =
    "^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$";
/// A year from 1900 to 2100, as a map key (work plans).
pub const YEAR_PATTERN: &str = "^(19[0-9]{2}|20[0-9]{2}|2100)$";

/// Adds to the document the constraints Redes enforces that utoipa's attributes cannot express:
/// the forms of territory references, codes and names; which fields each country or kind of
/// resource takes; closed request bodies. Request bodies are validated against exactly this
/// (see `contract`), so what is documented is what is enforced.
fn refine(doc: &mut Value) {
    use crate::domain::TerritoryLevel as L;
    use crate::domain::codes::RUT_PATTERN;
    use crate::domain::territory::{any_territory_pattern, territory_ref_pattern};

    let any_territory = any_territory_pattern();
    if let Some(paths) = doc["paths"].as_object_mut() {
        for item in paths.values_mut() {
            for operation in item
                .as_object_mut()
                .into_iter()
                .flat_map(|o| o.values_mut())
            {
                let parameters = operation
                    .get_mut("parameters")
                    .and_then(Value::as_array_mut);
                for parameter in parameters.into_iter().flatten() {
                    match parameter["name"].as_str() {
                        Some("territory" | "parent") => {
                            parameter["schema"]["pattern"] = json!(any_territory);
                        }
                        Some("after") => parameter["schema"]["maximum"] = json!(i64::MAX),
                        Some("period") => {
                            parameter["schema"]["items"]["pattern"] = json!(PERIOD_PATTERN);
                        }
                        // Analytics' org units: territories and networks, or a selector.
                        Some("org_unit") if parameter["schema"]["items"].is_object() => {
                            let inner = any_territory.trim_start_matches('^').trim_end_matches('$');
                            parameter["schema"]["items"]["pattern"] =
                                json!(format!("^(LEVEL-[1-4]|CHILDREN|{inner})$"));
                        }
                        Some("indicator") if parameter["schema"]["items"].is_object() => {
                            parameter["schema"]["items"]["pattern"] = json!(INDICATOR_PATTERN);
                        }
                        _ => {}
                    }
                    // Free text in a query (a name fragment, a code, a principal) is read as
                    // PostgreSQL text, which cannot hold NUL: documented, so a NUL is the
                    // contract's 400 rather than a surprise. Cursors are opaque tokens Redes
                    // issued (any other is a 400 `invalid_cursor`), not text to constrain.
                    let schema = &parameter["schema"];
                    let free_text = schema["type"] == "string"
                        && ["pattern", "enum", "format", "$ref"]
                            .iter()
                            .all(|k| schema.get(k).is_none());
                    if parameter["in"] == "query" && parameter["name"] != "cursor" && free_text {
                        parameter["schema"]["pattern"] = json!("^[^\\u0000]*$");
                    }
                }
            }
        }
    }

    let schemas = &mut doc["components"]["schemas"];
    let comuna = territory_ref_pattern(&[L::Comuna]);
    let municipio = territory_ref_pattern(&[L::Municipio]);
    let school_territory = territory_ref_pattern(&[L::Comuna, L::Municipio]);
    for name in [
        "OrganizationInput",
        "OrganizationPatch",
        "SchoolInput",
        "SchoolPatch",
        "SedeInput",
    ] {
        let schema = &mut schemas[name];
        schema["additionalProperties"] = json!(false);
        schema["properties"]["name"]["pattern"] = json!(NAME_PATTERN);
    }
    for name in ["OrganizationInput", "OrganizationPatch"] {
        let properties = &mut schemas[name]["properties"];
        properties["territory"]["pattern"] = json!(any_territory);
        properties["rut"]["pattern"] = json!(RUT_PATTERN);
        properties["etc_code"]["pattern"] = json!("^[0-9]{1,8}$");
    }
    for name in ["SchoolInput", "SchoolPatch"] {
        let properties = &mut schemas[name]["properties"];
        properties["territory"]["pattern"] = json!(school_territory);
        properties["rbd_dv"]["pattern"] = json!("^[0-9Kk]$");
        properties["dane_code"]["pattern"] = json!("^[0-9]{12}$");
        properties["levels"]["uniqueItems"] = json!(true);
    }
    schemas["SedeInput"]["properties"]["dane_code"]["pattern"] = json!("^[0-9]{12}$");

    // Networks: closed bodies, text without NUL, bounded list items.
    let plain_text = json!("^[^\\u0000]*$");
    let list_item = json!({"type": "string", "maxLength": 2000, "pattern": plain_text});
    for name in ["NetworkInput", "NetworkPatch"] {
        let schema = &mut schemas[name];
        schema["additionalProperties"] = json!(false);
        let properties = &mut schema["properties"];
        properties["name"]["pattern"] = json!(NAME_PATTERN);
        properties["territory"]["pattern"] = json!(any_territory);
        for field in ["principles_and_needs", "objective", "idea_fuerza"] {
            properties[field]["pattern"] = plain_text.clone();
        }
        for field in ["mobilisation", "collaboration", "learnings", "challenges"] {
            properties[field]["items"] = list_item.clone();
        }
    }
    for name in ["NetworkInput", "NetworkPatch", "Network"] {
        let plans = &mut schemas[name]["properties"]["work_plans"];
        plans["propertyNames"] = json!({"pattern": YEAR_PATTERN});
        plans["maxProperties"] = json!(50);
    }
    let work_plan = &mut schemas["WorkPlan"];
    work_plan["additionalProperties"] = json!(false);
    work_plan["properties"]["hilo_conductor"]["pattern"] = plain_text.clone();
    for field in ["objectives", "topics"] {
        work_plan["properties"][field]["items"] = list_item.clone();
    }
    for name in ["MemberInput", "MemberPatch"] {
        schemas[name]["additionalProperties"] = json!(false);
    }
    schemas["MemberInput"]["allOf"] = exactly_one(&["school_id", "organization_id", "person_id"]);

    // People: closed bodies, a name, an e-mail address, a phone number.
    for name in ["PersonInput", "PersonPatch"] {
        let schema = &mut schemas[name];
        schema["additionalProperties"] = json!(false);
        let properties = &mut schema["properties"];
        properties["name"]["pattern"] = json!(NAME_PATTERN);
        properties["territory"]["pattern"] = json!(any_territory);
        properties["email"]["pattern"] = json!(EMAIL_PATTERN);
        properties["phone"]["pattern"] = json!(PHONE_PATTERN);
    }
    schemas["Affiliation"]["additionalProperties"] = json!(false);
    schemas["Affiliation"]["allOf"] = exactly_one(&["school_id", "organization_id"]);

    // Sessions: closed bodies, bounded text, person-keyed attendance, web links.
    for name in ["SessionInput", "SessionPatch"] {
        let schema = &mut schemas[name];
        schema["additionalProperties"] = json!(false);
        let properties = &mut schema["properties"];
        properties["title"]["pattern"] = json!(NAME_PATTERN);
        properties["start_time"]["pattern"] = json!("^([01][0-9]|2[0-3]):[0-5][0-9]$");
        for field in ["place", "work_plan_objective", "reflection", "notes"] {
            properties[field]["pattern"] = plain_text.clone();
        }
        properties["agenda"]["items"] = list_item.clone();
        properties["attendance"]["propertyNames"] = json!({"pattern": UUID_PATTERN});
        properties["attendance"]["maxProperties"] = json!(2000);
    }
    schemas["Session"]["properties"]["attendance"]["propertyNames"] =
        json!({"pattern": UUID_PATTERN});
    for name in ["Evidence", "ParticipantCount", "AgreementInput"] {
        schemas[name]["additionalProperties"] = json!(false);
    }
    schemas["Evidence"]["properties"]["title"]["pattern"] = json!(NAME_PATTERN);
    schemas["Evidence"]["properties"]["url"]["pattern"] = json!("^https?://[^\\s\\u0000]+$");
    schemas["ParticipantCount"]["properties"]["label"]["pattern"] = plain_text.clone();
    schemas["AgreementInput"]["properties"]["text"]["pattern"] = json!(NAME_PATTERN);
    // At most one owner: a person or a school.
    schemas["AgreementInput"]["allOf"] = json!([{
        "if": {"properties": {"owner_person_id": {"type": "string"}}, "required": ["owner_person_id"]},
        "then": {"properties": {"owner_school_id": {"type": "null"}}},
    }]);

    // Catalogue items: a closed body, a code of capitals, digits and hyphens.
    let item = &mut schemas["CatalogueItemInput"];
    item["additionalProperties"] = json!(false);
    item["properties"]["code"]["pattern"] = json!("^[A-Z0-9]+(-[A-Z0-9]+)*$");
    item["properties"]["name"]["pattern"] = json!(NAME_PATTERN);
    item["properties"]["legal_basis"]["pattern"] = plain_text.clone();

    // PEI: closed bodies, bounded text, profiles keyed by actor.
    for name in ["PeiInput", "PeiPatch"] {
        let schema = &mut schemas[name];
        schema["additionalProperties"] = json!(false);
        let properties = &mut schema["properties"];
        for field in ["vision", "mission"] {
            properties[field]["pattern"] = plain_text.clone();
        }
        for field in ["principles", "values"] {
            properties[field]["items"] = list_item.clone();
        }
        properties["profiles"]["propertyNames"] =
            json!({"enum": crate::domain::plan::Actor::NAMES});
        properties["profiles"]["additionalProperties"] =
            json!({"type": "string", "maxLength": 5000, "pattern": plain_text});
    }
    schemas["Pei"]["properties"]["profiles"]["propertyNames"] =
        json!({"enum": crate::domain::plan::Actor::NAMES});
    let sello = &mut schemas["SelloInput"];
    sello["additionalProperties"] = json!(false);
    sello["properties"]["name"]["pattern"] = json!(NAME_PATTERN);
    sello["properties"]["description"]["pattern"] = plain_text.clone();

    // Plans: closed bodies at every level of the tree, titles that are not blank, bounded
    // text; the owner is a school or a Secretaría, never both.
    for name in [
        "PlanInput",
        "PlanPatch",
        "ObjectiveInput",
        "GoalInput",
        "StrategyInput",
        "ActionInput",
        "Funding",
        "Assessment",
        "LinkInput",
        "LinkPatch",
    ] {
        schemas[name]["additionalProperties"] = json!(false);
    }
    for name in [
        "PlanInput",
        "PlanPatch",
        "ObjectiveInput",
        "GoalInput",
        "StrategyInput",
        "ActionInput",
    ] {
        schemas[name]["properties"]["title"]["pattern"] = json!(NAME_PATTERN);
    }
    for (name, fields) in [
        ("GoalInput", &["indicator", "unit"][..]),
        (
            "ActionInput",
            &["description", "responsible_role", "resources"][..],
        ),
        ("Assessment", &["note"][..]),
        ("LinkInput", &["objective", "note"][..]),
        ("LinkPatch", &["note"][..]),
    ] {
        for field in fields {
            schemas[name]["properties"][*field]["pattern"] = plain_text.clone();
        }
    }
    schemas["ActionInput"]["properties"]["means_of_verification"]["items"] = list_item.clone();
    schemas["ActionInput"]["properties"]["subdimension_ids"]["uniqueItems"] = json!(true);
    schemas["PlanInput"]["allOf"] = exactly_one(&["school_id", "organization_id"]);
    schemas["LinkInput"]["properties"]["indicator_code"]["pattern"] = json!("^[A-Za-z0-9_.-]+$");
    // An indicator is named by its code; every other target by its id; a network objective
    // also by its text.
    schemas["LinkInput"]["allOf"] = json!([
        {
            "if": {"properties": {"type": {"const": "indicator"}}, "required": ["type"]},
            "then": {"required": ["indicator_code"], "properties": {"target_id": {"type": "null"}}},
            "else": {"required": ["target_id"], "properties": {"indicator_code": {"type": "null"}}},
        },
        {
            "if": {"properties": {"type": {"const": "network_objective"}}, "required": ["type"]},
            "then": {"required": ["objective"]},
            "else": {"properties": {"objective": {"type": "null"}}},
        },
    ]);
    // Improvement cycles: closed bodies at every depth, exactly one owner, text without NUL.
    for name in [
        "ImprovementCycleInput",
        "ImprovementCyclePatch",
        "Aim",
        "PdsaCycleInput",
        "PdsaPlan",
        "PdsaDo",
        "PdsaStudy",
        "PdsaAct",
        "MeasureInput",
        "MeasurePoint",
    ] {
        schemas[name]["additionalProperties"] = json!(false);
    }
    for name in ["ImprovementCycleInput", "ImprovementCyclePatch"] {
        let properties = &mut schemas[name]["properties"];
        for field in ["title", "problem_of_practice", "driver", "change_idea"] {
            properties[field]["pattern"] = json!(NAME_PATTERN);
        }
    }
    schemas["ImprovementCycleInput"]["allOf"] = exactly_one(&["school_id", "network_id"]);
    for field in ["statement", "measure", "unit"] {
        schemas["Aim"]["properties"][field]["pattern"] = json!(NAME_PATTERN);
    }
    for field in ["questions", "predictions", "measures"] {
        schemas["PdsaPlan"]["properties"][field]["items"] = list_item.clone();
    }
    schemas["PdsaPlan"]["properties"]["who"]["pattern"] = plain_text.clone();
    schemas["PdsaDo"]["properties"]["observations"]["pattern"] = plain_text.clone();
    for field in ["results", "compared_with_predictions", "learning"] {
        schemas["PdsaStudy"]["properties"][field]["pattern"] = plain_text.clone();
    }
    schemas["PdsaAct"]["properties"]["next_steps"]["pattern"] = plain_text.clone();
    for field in ["name", "unit"] {
        schemas["MeasureInput"]["properties"][field]["pattern"] = json!(NAME_PATTERN);
    }
    schemas["MeasurePoint"]["properties"]["note"]["pattern"] = plain_text.clone();

    // Mentoring visits: closed bodies, text without NUL.
    for name in [
        "MentoringVisitInput",
        "MentoringVisitPatch",
        "VisitAgreementInput",
    ] {
        schemas[name]["additionalProperties"] = json!(false);
    }
    for name in ["MentoringVisitInput", "MentoringVisitPatch"] {
        let properties = &mut schemas[name]["properties"];
        properties["focus"]["pattern"] = json!(NAME_PATTERN);
        for field in ["observations", "follow_up"] {
            properties[field]["pattern"] = plain_text.clone();
        }
    }
    schemas["VisitAgreementInput"]["properties"]["description"]["pattern"] = json!(NAME_PATTERN);

    // Indicator values: a closed body, text without NUL, disaggregation values bounded.
    let value = &mut schemas["ValueInput"];
    value["additionalProperties"] = json!(false);
    value["properties"]["period"]["pattern"] = json!(PERIOD_PATTERN);
    value["properties"]["indicator"]["pattern"] = plain_text.clone();
    value["properties"]["org_unit"]["pattern"] = plain_text.clone();
    value["properties"]["source"]["pattern"] = plain_text.clone();
    value["properties"]["comment"]["pattern"] = plain_text.clone();
    value["properties"]["disaggregation"]["maxProperties"] = json!(10);
    value["properties"]["disaggregation"]["propertyNames"] =
        json!({"pattern": "^[a-z][a-z0-9_]{0,49}$"});
    value["properties"]["disaggregation"]["additionalProperties"] =
        json!({"type": "string", "pattern": "^[a-z0-9_]{1,50}$"});

    // Indicator definitions of one's own: a closed body, names and text without NUL.
    let definition = &mut schemas["IndicatorInput"];
    definition["additionalProperties"] = json!(false);
    definition["properties"]["name_es"]["pattern"] = json!(NAME_PATTERN);
    definition["properties"]["name_en"]["pattern"] = json!(NAME_PATTERN);
    definition["properties"]["description"]["pattern"] = plain_text.clone();
    definition["properties"]["source"]["pattern"] = plain_text.clone();

    // A field that must be absent (or null) in this case.
    let absent = json!({"type": "null"});
    let when = |property: &str, values: &[&str], then: Value| {
        json!({
            "if": {"properties": {property: {"enum": values}}, "required": [property]},
            "then": then,
        })
    };
    let territory = |levels: &[L]| json!({"properties": {"territory": {"pattern": territory_ref_pattern(levels)}}});
    schemas["OrganizationInput"]["allOf"] = json!([
        when(
            "kind",
            &["daem", "corporacion_municipal"],
            territory(&[L::Comuna])
        ),
        when(
            "kind",
            &["slep", "particular", "administracion_delegada", "deprov"],
            territory(&[L::Region, L::Provincia, L::Comuna])
        ),
        when("kind", &["ministry"], territory(&[L::Country])),
        when(
            "kind",
            &["secretaria"],
            json!({"properties": {
                "territory": {"pattern": territory_ref_pattern(&[L::Departamento, L::Municipio])},
                "rut": absent,
            }})
        ),
        when(
            "kind",
            &[
                "daem",
                "corporacion_municipal",
                "slep",
                "particular",
                "administracion_delegada",
                "deprov",
                "ministry",
                "centre"
            ],
            json!({"properties": {"etc_code": absent, "secretaria_level": absent}})
        ),
        when(
            "secretaria_level",
            &["departamental"],
            territory(&[L::Departamento])
        ),
        when(
            "secretaria_level",
            &["distrital", "municipal"],
            territory(&[L::Municipio])
        ),
    ]);
    schemas["SchoolInput"]["allOf"] = json!([
        // A check digit without its RBD means nothing.
        {
            "if": {"properties": {"rbd_dv": {"type": "string"}}, "required": ["rbd_dv"]},
            "then": {"required": ["rbd"], "properties": {"rbd": {"type": "integer"}}},
        },
        when(
            "country",
            &["CL"],
            json!({
                "required": ["dependency"],
                "properties": {
                    "dependency": {"not": {"type": "null"}},
                    "territory": {"pattern": comuna},
                    "dane_code": absent, "sector": absent, "secretaria_id": absent, "sedes": absent,
                },
            })
        ),
        when(
            "country",
            &["CO"],
            json!({
                "required": ["dane_code", "sector"],
                "properties": {
                    "dane_code": {"type": "string"},
                    "sector": {"not": {"type": "null"}},
                    "territory": {"pattern": municipio},
                    "rbd": absent, "rbd_dv": absent, "dependency": absent, "levels": absent,
                    "sostenedor_id": absent,
                },
            })
        ),
    ]);

    refine_clients(doc, &any_territory);
}

/// API clients: closed bodies, known scopes, territory references; and 429 on every operation
/// a token is rate-limited on.
fn refine_clients(doc: &mut Value, any_territory: &str) {
    let schemas = &mut doc["components"]["schemas"];
    for name in ["ClientInput", "ClientPatch", "RotationInput"] {
        schemas[name]["additionalProperties"] = json!(false);
    }
    for name in ["ClientInput", "ClientPatch"] {
        let properties = &mut schemas[name]["properties"];
        properties["name"]["pattern"] = json!(NAME_PATTERN);
        properties["contact"]["pattern"] = json!("^[^\\u0000]*$");
        properties["scopes"]["items"] = json!({"type": "string", "enum": crate::auth::scopes::ALL});
        properties["scopes"]["uniqueItems"] = json!(true);
        properties["territories"]["items"] = json!({"type": "string", "pattern": any_territory});
        properties["territories"]["uniqueItems"] = json!(true);
    }
    let too_many = json!({"$ref": "#/components/responses/TooManyRequests"});
    if let Some(paths) = doc["paths"].as_object_mut() {
        for item in paths.values_mut() {
            for operation in item
                .as_object_mut()
                .into_iter()
                .flat_map(|o| o.values_mut())
            {
                let bearer = operation["security"]
                    .as_array()
                    .is_some_and(|s| s.iter().any(|r| r.get("bearer").is_some()));
                if bearer && operation["responses"].get("429").is_none() {
                    operation["responses"]["429"] = too_many.clone();
                }
            }
        }
    }
}

/// OpenAPI links from each `POST` that creates a resource to the operations on it (the path
/// one `{parameter}` below the collection), so that clients (and stateful fuzzers) can follow
/// them: the new resource's id from the response, the collection's own path parameters (a
/// network's id for its members) from the request.
fn add_links(doc: &mut Value) {
    let Some(paths) = doc["paths"].as_object() else {
        return;
    };
    let mut links: Vec<(String, serde_json::Map<String, Value>)> = Vec::new();
    for (path, item) in paths {
        if item["post"]["responses"]["201"].is_null() {
            continue;
        }
        let prefix = format!("{path}/{{");
        let Some((member, member_item)) = paths.iter().find(|(candidate, _)| {
            candidate.starts_with(&prefix) && !candidate[prefix.len()..].contains('/')
        }) else {
            continue;
        };
        let own_parameters = path_parameters(path);
        let Some(new_id) = path_parameters(member).pop() else {
            continue;
        };
        let mut parameters = serde_json::Map::new();
        for name in &own_parameters {
            parameters.insert(name.clone(), json!(format!("$request.path.{name}")));
        }
        parameters.insert(new_id, json!("$response.body#/id"));
        let mut found = serde_json::Map::new();
        for (method, operation) in item_operations(member_item) {
            if let Some(id) = operation["operationId"].as_str() {
                found.insert(
                    id.to_owned(),
                    json!({
                        "operationId": id,
                        "parameters": parameters,
                        "description": format!("{} the created resource.", method.to_uppercase()),
                    }),
                );
            }
        }
        // No link to `get_school_by_code`: a Colombian school has no RBD, and a stateful fuzzer
        // that deletes a school by id and then follows such a link from the creation reports
        // the right 404 as a lost resource, since it cannot tell the two paths name one school.
        links.push((path.clone(), found));
    }
    for (path, found) in links {
        doc["paths"][&path]["post"]["responses"]["201"]["links"] = Value::Object(found);
    }
}

/// `Idempotency-Key` on every `POST` (see `crate::idempotency`), added here so that a new `POST`
/// cannot lack it: the optional header, and its answers merged into the operation's 400, 409
/// and 422 (as `Post…` variants of the shared responses, which other methods keep unchanged).
fn add_idempotency(doc: &mut Value) {
    use crate::idempotency::{IN_PROGRESS_RETRY_AFTER, MAX_KEY_LENGTH};
    let variants = [
        (
            "400",
            "MalformedBody",
            "PostBadRequest",
            "Or the `Idempotency-Key` header is malformed (`invalid-idempotency-key`).",
        ),
        (
            "409",
            "Conflict",
            "PostConflict",
            "Or the first request with this `Idempotency-Key` is still being served \
             (`idempotency-key-in-use`): retry after `Retry-After` seconds.",
        ),
        (
            "422",
            "UnprocessableEntity",
            "PostUnprocessableEntity",
            "Or this `Idempotency-Key` was used in the last 24 hours for a different request \
             (`idempotency-key-reused`).",
        ),
    ];
    let responses = &mut doc["components"]["responses"];
    for (_, base, variant, addition) in variants {
        let mut response = responses[base].clone();
        let description = response["description"].as_str().unwrap_or_default();
        response["description"] = json!(format!("{description}\n\n{addition}"));
        if variant == "PostConflict" {
            response["headers"]["Retry-After"] = json!({
                "description": "With `idempotency-key-in-use`: seconds to wait before retrying.",
                "schema": {"type": "integer", "format": "int32", "minimum": 0,
                           "example": IN_PROGRESS_RETRY_AFTER},
            });
        }
        responses[variant] = response;
    }
    let parameter = json!({
        "name": "Idempotency-Key",
        "in": "header",
        "required": false,
        "description": format!(
            "Makes the request safe to retry: the first response to a key is kept for 24 hours \
             (per client) and returned again, with `Idempotent-Replayed: true`, to a retry with \
             the same key, method, path, query and body, without doing the work twice. 1 to \
             {MAX_KEY_LENGTH} visible ASCII characters, bare or as a quoted string; use a new \
             random value (a UUID) for each new request. See *Retrying safely* in the API's \
             description."
        ),
        "schema": {"type": "string", "minLength": 1, "maxLength": MAX_KEY_LENGTH,
                   "pattern": "^[!-~]+$"},
        "example": "5f0c6a2e-0b1d-4a53-9d47-2b8f0e1c9a10",
    });
    let Some(paths) = doc["paths"].as_object_mut() else {
        return;
    };
    for (path, item) in paths.iter_mut() {
        if crate::idempotency::EXCLUDED_PATHS.contains(&path.as_str()) {
            continue;
        }
        let Some(operation) = item.get_mut("post").and_then(Value::as_object_mut) else {
            continue;
        };
        let parameters = operation.entry("parameters").or_insert_with(|| json!([]));
        if let Some(parameters) = parameters.as_array_mut() {
            parameters.push(parameter.clone());
        }
        let responses = operation.entry("responses").or_insert_with(|| json!({}));
        if let Some(responses) = responses.as_object_mut() {
            for (_, response) in responses
                .iter_mut()
                .filter(|(status, response)| status.starts_with('2') && response.is_object())
            {
                response["headers"]["Idempotent-Replayed"] = json!({
                    "description": "`true` when this is the kept response to an earlier request \
                                    with the same `Idempotency-Key`, replayed.",
                    "schema": {"type": "string", "enum": ["true"]},
                });
            }
        }
        for (status, base, variant, addition) in variants {
            let reference = format!("#/components/responses/{variant}");
            let response = &mut responses[status];
            match response["$ref"].as_str() {
                Some(r) if r != format!("#/components/responses/{base}") => {
                    // Another shared response: left as it is (none today).
                }
                Some(_) => *response = json!({"$ref": reference}),
                None if response.is_null() => *response = json!({"$ref": reference}),
                None => {
                    let description = response["description"].as_str().unwrap_or_default();
                    response["description"] = json!(format!("{description}\n\n{addition}"));
                }
            }
        }
    }
}

/// The names of a path's `{parameters}`, in order.
fn path_parameters(path: &str) -> Vec<String> {
    path.split('/')
        .filter_map(|segment| segment.strip_prefix('{')?.strip_suffix('}'))
        .map(str::to_owned)
        .collect()
}

fn item_operations(item: &Value) -> Vec<(&String, &Value)> {
    item.as_object()
        .map(|o| o.iter().filter(|(_, op)| op.is_object()).collect())
        .unwrap_or_default()
}

/// Responses shared by many operations, as `#/components/responses/...`.
pub mod responses {
    use utoipa::ToResponse;

    use crate::error::Problem;

    /// Invalid query parameters: every problem is listed in `errors`.
    #[derive(ToResponse)]
    #[response(content_type = "application/problem+json")]
    pub struct BadRequest(
        #[expect(dead_code, reason = "only the type matters, for the schema")] Problem,
    );

    /// No token, or a token that is malformed, expired, not yet valid, for another audience or
    /// issuer, or badly signed.
    #[derive(ToResponse)]
    #[response(
        content_type = "application/problem+json",
        headers(("WWW-Authenticate" = String, description = "`Bearer realm=\"redes\"`, with \
            `error=\"invalid_token\"` and a description when a token was sent (RFC 6750)."))
    )]
    pub struct Unauthorized(
        #[expect(dead_code, reason = "only the type matters, for the schema")] Problem,
    );

    /// The token is valid but lacks the scope this operation requires.
    #[derive(ToResponse)]
    #[response(
        content_type = "application/problem+json",
        headers(("WWW-Authenticate" = String, description = "`Bearer error=\"insufficient_scope\"` \
            with the required `scope`."))
    )]
    pub struct Forbidden(
        #[expect(dead_code, reason = "only the type matters, for the schema")] Problem,
    );

    /// No such resource, or one outside the caller's territories (which is indistinguishable on
    /// purpose).
    #[derive(ToResponse)]
    #[response(content_type = "application/problem+json")]
    pub struct NotFound(
        #[expect(dead_code, reason = "only the type matters, for the schema")] Problem,
    );

    /// The body is not JSON, or the query has parameters the operation does not take.
    #[derive(ToResponse)]
    #[response(content_type = "application/problem+json")]
    pub struct MalformedBody(
        #[expect(dead_code, reason = "only the type matters, for the schema")] Problem,
    );

    /// The token lacks the operation's scope, or the body names a territory outside the
    /// caller's territories (`errors` points at it, code `foreign_territory`).
    #[derive(ToResponse)]
    #[response(content_type = "application/problem+json")]
    pub struct ForbiddenTerritory(
        #[expect(dead_code, reason = "only the type matters, for the schema")] Problem,
    );

    /// A unique value is taken (`errors` points at it, code `taken`), the body refers to a
    /// resource that does not exist or that the caller cannot see (`dangling-reference`), the
    /// resource is still referenced (`in-use`), or another request changed it at the same
    /// moment.
    #[derive(ToResponse)]
    #[response(content_type = "application/problem+json")]
    pub struct Conflict(
        #[expect(dead_code, reason = "only the type matters, for the schema")] Problem,
    );

    /// The resource changed since the ETag sent in `If-Match`.
    #[derive(ToResponse)]
    #[response(content_type = "application/problem+json")]
    pub struct PreconditionFailed(
        #[expect(dead_code, reason = "only the type matters, for the schema")] Problem,
    );

    /// The body is larger than `REDES_MAX_BODY_BYTES`.
    #[derive(ToResponse)]
    #[response(content_type = "application/problem+json")]
    pub struct PayloadTooLarge(
        #[expect(dead_code, reason = "only the type matters, for the schema")] Problem,
    );

    /// The body is not `application/json` (or `application/merge-patch+json`).
    #[derive(ToResponse)]
    #[response(content_type = "application/problem+json")]
    pub struct UnsupportedMediaType(
        #[expect(dead_code, reason = "only the type matters, for the schema")] Problem,
    );

    /// The body is JSON but not valid: every problem is listed in `errors`, each with a JSON
    /// Pointer to its field.
    #[derive(ToResponse)]
    #[response(content_type = "application/problem+json")]
    pub struct UnprocessableEntity(
        #[expect(dead_code, reason = "only the type matters, for the schema")] Problem,
    );

    /// A query filter names a territory (or, for analytics, an indicator, org unit or period)
    /// that does not exist (`errors` points at each).
    #[derive(ToResponse)]
    #[response(content_type = "application/problem+json")]
    pub struct UnknownReference(
        #[expect(dead_code, reason = "only the type matters, for the schema")] Problem,
    );

    /// The caller's client exceeded its rate limit (or, at the token endpoint, its address did):
    /// retry after the given seconds.
    #[derive(ToResponse)]
    #[response(
        content_type = "application/problem+json",
        headers(
            ("Retry-After" = u32, description = "Seconds to wait before retrying."),
            ("RateLimit-Limit" = u32, description = "Requests allowed at once (the burst)."),
            ("RateLimit-Remaining" = u32, description = "Requests left now: 0."),
            ("RateLimit-Reset" = u32, description = "Seconds until a request may go."),
            ("RateLimit-Policy" = String, description = "`<burst>;w=<seconds to refill it>`."),
        )
    )]
    pub struct TooManyRequests(
        #[expect(dead_code, reason = "only the type matters, for the schema")] Problem,
    );

    /// The database is unreachable or not ready; retry after the given seconds.
    #[derive(ToResponse)]
    #[response(
        content_type = "application/problem+json",
        headers(("Retry-After" = u32, description = "Seconds to wait before retrying."))
    )]
    pub struct Unavailable(
        #[expect(dead_code, reason = "only the type matters, for the schema")] Problem,
    );
}

/// `allOf` members that require exactly one of `fields` to be given (a string), the others
/// absent or null, as nested if/then/else so that generators and error messages follow it.
fn exactly_one(fields: &[&str]) -> Value {
    fn rule(fields: &[&str]) -> Value {
        match fields {
            [] => json!({}),
            [last] => json!({"required": [last], "properties": {*last: {"type": "string"}}}),
            [first, rest @ ..] => {
                let nulls: serde_json::Map<String, Value> = rest
                    .iter()
                    .map(|f| ((*f).to_owned(), json!({"type": "null"})))
                    .collect();
                json!({
                    "if": {"properties": {*first: {"type": "string"}}, "required": [first]},
                    "then": {"properties": nulls},
                    "else": rule(rest),
                })
            }
        }
    }
    json!([rule(fields)])
}
