//! Errors as RFC 9457 problems.
//!
//! Handlers return [`ApiError`]. Its `ResponseError` impl only chooses the status and headers and
//! attaches a [`Described`] problem to the response; the [`render_problems`] middleware, which
//! knows the request, writes the `application/problem+json` body in the client's language with
//! the request id and path. The same middleware turns any other error response (actix's own
//! plain-text ones, an empty 404 from a static file) into a problem, so no client ever gets a
//! non-problem error body.

use std::fmt;

use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderValue};
use actix_web::middleware::Next;
use actix_web::{HttpMessage, HttpResponse, ResponseError};
use diesel::result::DatabaseErrorKind;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::auth::AuthError;
use crate::i18n::Lang;
use crate::telemetry::RequestId;

pub type ApiResult<T> = Result<T, ApiError>;

/// Seconds a client is asked to wait before retrying when the database is unavailable.
pub const RETRY_AFTER_SECONDS: u32 = 2;

pub const PROBLEM_JSON: &str = "application/problem+json";

/// Where in the request a problem lies.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Location {
    /// A query-string parameter, by name.
    Query(String),
    /// A path parameter, by name.
    Path(String),
    /// A field of the JSON body, as a JSON Pointer (RFC 6901): `/members/0/joined_on`.
    Body(String),
    /// A header, by name.
    Header(String),
}

/// One problem with one part of a request. A request with several problems gets them all at
/// once, so a client fixes its request in one round trip.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Issue {
    pub location: Location,
    pub kind: IssueKind,
}

impl Issue {
    pub fn query(name: &str, kind: IssueKind) -> Self {
        Issue {
            location: Location::Query(name.to_owned()),
            kind,
        }
    }

    pub fn body(pointer: impl Into<String>, kind: IssueKind) -> Self {
        Issue {
            location: Location::Body(pointer.into()),
            kind,
        }
    }
}

/// What is wrong, with a stable machine-readable `code` and a message for people.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IssueKind {
    UnknownParameter {
        known: &'static [&'static str],
    },
    RepeatedParameter,
    Required,
    Empty,
    InvalidInteger,
    OutOfRange {
        min: i64,
        max: i64,
    },
    TooLong {
        max: usize,
    },
    InvalidChoice {
        allowed: &'static [&'static str],
    },
    InvalidCursor,
    /// Neither a territory key (`CL-13101`) nor a UUID.
    InvalidTerritory,
    /// A well-formed key or id that names no territory.
    UnknownTerritory,
    InvalidEncoding,
    /// A JSON body whose values do not fit the expected types; `detail` is the parser's account
    /// of the client's own input (English only).
    InvalidBody {
        detail: String,
    },
    /// A value of the wrong type or not among the allowed ones.
    InvalidValue {
        expected_es: String,
        expected_en: String,
    },
    /// A member of the body the resource does not have.
    UnknownField {
        known: &'static [&'static str],
    },
    /// A value that does not have the required format (`12345678-9`, 12 digits, a pattern…).
    InvalidFormat {
        expected_es: String,
        expected_en: String,
    },
    /// A territory at the wrong level for this field.
    WrongTerritoryLevel {
        allowed: Vec<&'static str>,
    },
    /// A territory of the other country.
    WrongCountry {
        country: &'static str,
    },
    /// An id that names no resource the caller can see.
    UnknownReference,
    /// A referenced organisation of the wrong kind.
    WrongKind {
        allowed: Vec<&'static str>,
    },
    /// A field that does not apply to the resource's country or kind (e.g. `rbd` for Colombia).
    NotApplicable,
    /// A value repeated in a list that must not repeat.
    Duplicate,
    /// A unique value another resource already has.
    Taken,
    /// A territory outside the caller's territories.
    ForeignTerritory,
    /// A scope the caller does not hold itself, so cannot grant.
    ScopeNotHeld,
    /// A field that cannot change once the resource exists.
    Immutable,
    /// A date that must come after another field's (`left_on` after `joined_on`).
    NotAfter {
        field: &'static str,
    },
    /// A period that overlaps another period of the same member in the same role.
    Overlap,
    /// A plan whose years overlap another plan of the same kind of the same owner.
    OverlappingPlan,
    /// More lines or bars than a chart can show readably.
    TooManySeries {
        max: usize,
    },
}

impl IssueKind {
    /// A format described in both languages.
    pub fn format(es: impl Into<String>, en: impl Into<String>) -> IssueKind {
        IssueKind::InvalidFormat {
            expected_es: es.into(),
            expected_en: en.into(),
        }
    }

    pub fn code(&self) -> &'static str {
        match self {
            IssueKind::UnknownParameter { .. } => "unknown_parameter",
            IssueKind::RepeatedParameter => "repeated_parameter",
            IssueKind::Required => "required",
            IssueKind::Empty => "empty",
            IssueKind::InvalidInteger => "invalid_integer",
            IssueKind::OutOfRange { .. } => "out_of_range",
            IssueKind::TooLong { .. } => "too_long",
            IssueKind::InvalidChoice { .. } => "invalid_choice",
            IssueKind::InvalidCursor => "invalid_cursor",
            IssueKind::InvalidTerritory => "invalid_territory",
            IssueKind::UnknownTerritory => "unknown_territory",
            IssueKind::InvalidEncoding => "invalid_encoding",
            IssueKind::InvalidBody { .. } => "invalid_body",
            IssueKind::InvalidValue { .. } => "invalid_value",
            IssueKind::UnknownField { .. } => "unknown_field",
            IssueKind::InvalidFormat { .. } => "invalid_format",
            IssueKind::WrongTerritoryLevel { .. } => "wrong_territory_level",
            IssueKind::WrongCountry { .. } => "wrong_country",
            IssueKind::UnknownReference => "unknown_reference",
            IssueKind::WrongKind { .. } => "wrong_kind",
            IssueKind::NotApplicable => "not_applicable",
            IssueKind::Duplicate => "duplicate",
            IssueKind::Taken => "taken",
            IssueKind::ForeignTerritory => "foreign_territory",
            IssueKind::ScopeNotHeld => "scope_not_held",
            IssueKind::Immutable => "immutable",
            IssueKind::NotAfter { .. } => "not_after",
            IssueKind::Overlap => "overlap",
            IssueKind::OverlappingPlan => "overlapping_plan",
            IssueKind::TooManySeries { .. } => "too_many_series",
        }
    }

    pub fn message(&self, lang: Lang) -> String {
        match self {
            IssueKind::UnknownParameter { known } => lang.pick(
                format!("Parámetro desconocido; se aceptan: {}.", known.join(", ")),
                format!("Unknown parameter; accepted: {}.", known.join(", ")),
            ),
            IssueKind::RepeatedParameter => lang.pick(
                "El parámetro aparece más de una vez.".into(),
                "The parameter is given more than once.".into(),
            ),
            IssueKind::Required => lang.pick(
                "Este valor es obligatorio.".into(),
                "This value is required.".into(),
            ),
            IssueKind::Empty => lang.pick(
                "El valor no puede estar vacío.".into(),
                "The value must not be empty.".into(),
            ),
            IssueKind::InvalidInteger => lang.pick(
                "Debe ser un número entero.".into(),
                "Must be an integer.".into(),
            ),
            IssueKind::OutOfRange { min, max } => lang.pick(
                format!("Debe estar entre {min} y {max}."),
                format!("Must be between {min} and {max}."),
            ),
            IssueKind::TooLong { max } => lang.pick(
                format!("Admite a lo más {max} caracteres."),
                format!("Must be at most {max} characters long."),
            ),
            IssueKind::InvalidChoice { allowed } => lang.pick(
                format!("Valor no válido; se acepta uno de: {}.", allowed.join(", ")),
                format!("Invalid value; expected one of: {}.", allowed.join(", ")),
            ),
            IssueKind::InvalidCursor => lang.pick(
                "Cursor no válido: use el valor de `next_cursor` de la página anterior.".into(),
                "Invalid cursor: pass the `next_cursor` of the previous page as it is.".into(),
            ),
            IssueKind::InvalidTerritory => lang.pick(
                "Se espera la clave de un territorio (p. ej. CL-13101, CO-11001) o su id.".into(),
                "Expected a territory key (e.g. CL-13101, CO-11001) or a territory id.".into(),
            ),
            IssueKind::UnknownTerritory => lang.pick(
                "No existe un territorio con esa clave o id.".into(),
                "No territory has that key or id.".into(),
            ),
            IssueKind::InvalidEncoding => lang.pick(
                "El valor no es texto UTF-8 válido con codificación de URL.".into(),
                "The value is not valid percent-encoded UTF-8.".into(),
            ),
            IssueKind::InvalidBody { detail } => lang.pick(
                format!("El cuerpo no tiene la forma esperada: {detail}."),
                format!("The body does not have the expected shape: {detail}."),
            ),
            IssueKind::InvalidValue {
                expected_es,
                expected_en,
            } => lang.pick(
                format!("Valor no válido: se espera {expected_es}."),
                format!("Invalid value: expected {expected_en}."),
            ),
            IssueKind::UnknownField { known: [] } => lang.pick(
                "Campo desconocido: vea el esquema documentado.".into(),
                "Unknown field: see the documented schema.".into(),
            ),
            IssueKind::UnknownField { known } => lang.pick(
                format!("Campo desconocido; los campos son: {}.", known.join(", ")),
                format!("Unknown field; the fields are: {}.", known.join(", ")),
            ),
            IssueKind::InvalidFormat {
                expected_es,
                expected_en,
            } => lang.pick(
                format!("Formato no válido: se espera {expected_es}."),
                format!("Invalid format: expected {expected_en}."),
            ),
            IssueKind::WrongTerritoryLevel { allowed } => lang.pick(
                format!("El territorio debe ser de nivel: {}.", allowed.join(", ")),
                format!("The territory must be at level: {}.", allowed.join(", ")),
            ),
            IssueKind::WrongCountry { country } => lang.pick(
                format!("Debe pertenecer al país {country}."),
                format!("Must belong to the country {country}."),
            ),
            IssueKind::UnknownReference => lang.pick(
                "No existe un recurso con ese id entre los que usted puede ver.".into(),
                "No resource you can see has that id.".into(),
            ),
            IssueKind::WrongKind { allowed } => lang.pick(
                format!("La organización debe ser de tipo: {}.", allowed.join(", ")),
                format!("The organisation must be of kind: {}.", allowed.join(", ")),
            ),
            IssueKind::NotApplicable => lang.pick(
                "Este campo no corresponde a este recurso (por su país o su tipo); omítalo o \
                 envíelo como null."
                    .into(),
                "This field does not apply to this resource (its country or kind); omit it or \
                 send null."
                    .into(),
            ),
            IssueKind::Duplicate => lang.pick(
                "El valor está repetido.".into(),
                "The value is repeated.".into(),
            ),
            IssueKind::Taken => lang.pick(
                "Otro recurso ya tiene este valor.".into(),
                "Another resource already has this value.".into(),
            ),
            IssueKind::ScopeNotHeld => lang.pick(
                "Su token no tiene este permiso (scope): no puede otorgarlo.".into(),
                "Your token does not hold this scope, so it cannot grant it.".into(),
            ),
            IssueKind::ForeignTerritory => lang.pick(
                "El territorio está fuera de los territorios de su token.".into(),
                "The territory is outside your token's territories.".into(),
            ),
            IssueKind::Immutable => lang.pick(
                "Este campo no puede cambiar una vez creado el recurso.".into(),
                "This field cannot change once the resource exists.".into(),
            ),
            IssueKind::NotAfter { field } => lang.pick(
                format!("Debe ser posterior a `{field}`."),
                format!("Must come after `{field}`."),
            ),
            IssueKind::Overlap => lang.pick(
                "El período se superpone con otro del mismo integrante en el mismo rol.".into(),
                "The period overlaps another of the same member in the same role.".into(),
            ),
            IssueKind::OverlappingPlan => lang.pick(
                "Otro plan de este tipo del mismo establecimiento u organización (y del mismo \
                 plan normativo) cubre alguno de estos años."
                    .into(),
                "Another plan of this kind of the same school or organisation (and the same \
                 plan normativo) covers one of these years."
                    .into(),
            ),
            IssueKind::TooManySeries { max } => lang.pick(
                format!(
                    "Un gráfico muestra a lo más {max} series (indicadores × unidades); pida \
                     menos unidades o indicadores, o pida JSON o CSV."
                ),
                format!(
                    "A chart shows at most {max} series (indicators × org units); ask for fewer \
                     org units or indicators, or for JSON or CSV."
                ),
            ),
        }
    }
}

/// A kind of resource, named in messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Resource {
    Territory,
    Organization,
    School,
    Network,
    Member,
    Person,
    Session,
    Catalogue,
    CatalogueItem,
    Pei,
    Plan,
    PlanLink,
    ImprovementCycle,
    MentoringVisit,
    Indicator,
    IndicatorValue,
    ImportJob,
    Client,
}

impl Resource {
    fn name(self, lang: Lang) -> &'static str {
        match self {
            Resource::Territory => lang.pick("el territorio", "territory"),
            Resource::Organization => lang.pick("la organización", "organisation"),
            Resource::School => lang.pick("el establecimiento", "school"),
            Resource::Network => lang.pick("la red", "network"),
            Resource::Member => lang.pick("el integrante", "member"),
            Resource::Person => lang.pick("la persona", "person"),
            Resource::Session => lang.pick("la sesión", "session"),
            Resource::Catalogue => lang.pick("el catálogo", "catalogue"),
            Resource::CatalogueItem => lang.pick("el elemento del catálogo", "catalogue item"),
            Resource::Pei => lang.pick("el PEI del establecimiento", "school's PEI"),
            Resource::Plan => lang.pick("el plan", "plan"),
            Resource::PlanLink => lang.pick("el vínculo del plan", "plan link"),
            Resource::ImprovementCycle => {
                lang.pick("el plan de mejora de ciclo corto", "improvement cycle")
            }
            Resource::MentoringVisit => lang.pick("la visita de mentoría", "mentoring visit"),
            Resource::Indicator => lang.pick("el indicador", "indicator"),
            Resource::IndicatorValue => lang.pick("el valor del indicador", "indicator value"),
            Resource::ImportJob => lang.pick("la importación", "import job"),
            Resource::Client => lang.pick("el cliente de API", "API client"),
        }
    }
}

/// Every error a handler can answer with.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("invalid request parameters: {0:?}")]
    InvalidParameters(Vec<Issue>),
    #[error("malformed JSON body: {0}")]
    MalformedJson(String),
    #[error("unsupported media type")]
    UnsupportedMediaType,
    #[error("payload too large (limit {limit} bytes)")]
    PayloadTooLarge { limit: usize },
    #[error("invalid request body: {0:?}")]
    Validation(Vec<Issue>),
    #[error("unauthenticated: {0}")]
    Unauthenticated(AuthError),
    #[error("missing scope {scope}")]
    MissingScope { scope: &'static str },
    #[error("{resource:?} {id} not found")]
    NotFound { resource: Resource, id: String },
    #[error("write into a territory outside the caller's: {0:?}")]
    ForeignTerritory(Vec<Issue>),
    #[error("the body grants scopes the caller does not hold: {0:?}")]
    Escalation(Vec<Issue>),
    #[error("oauth error {error}")]
    OAuth {
        /// RFC 6749 §5.2 error code.
        error: &'static str,
        status: StatusCode,
        detail: (String, String),
        /// The client tried HTTP Basic: answer with a Basic challenge (RFC 6749 §5.2).
        basic: bool,
    },
    #[error("too many requests; retry in {retry_after} s")]
    TooManyRequests { retry_after: u64, limit: u32 },
    #[error("a unique value is taken: {0:?}")]
    Taken(Vec<Issue>),
    #[error("the query names resources that do not exist: {0:?}")]
    UnknownReference(Vec<Issue>),
    #[error("the body refers to resources that do not exist: {0:?}")]
    DanglingReference(Vec<Issue>),
    #[error("the request conflicts with the resource's current state: {0:?}")]
    StateConflict(Vec<Issue>),
    #[error("the resource is referenced by others")]
    InUse,
    #[error("the resource changed since the given ETag")]
    PreconditionFailed,
    #[error("the resource changed while this request was being served")]
    ConcurrentChange,
    #[error("malformed Idempotency-Key header")]
    InvalidIdempotencyKey,
    #[error("the Idempotency-Key was used for another request")]
    IdempotencyKeyReused,
    #[error("the request with this Idempotency-Key is still being served")]
    IdempotencyKeyInUse,
    #[error("no route for this path")]
    RouteNotFound,
    #[error("method not allowed; allowed: {allow}")]
    MethodNotAllowed { allow: String },
    #[error("database error: {0}")]
    Database(#[from] diesel::result::Error),
    #[error("database unavailable: {0}")]
    Unavailable(String),
    #[error("internal error")]
    Internal(#[source] anyhow::Error),
}

impl ApiError {
    pub fn not_found(resource: Resource, id: impl fmt::Display) -> Self {
        ApiError::NotFound {
            resource,
            id: id.to_string(),
        }
    }

    pub fn internal(error: impl Into<anyhow::Error>) -> Self {
        ApiError::Internal(error.into())
    }

    /// The problem in English on one line, with each issue: for the command line.
    pub fn describe_plainly(&self) -> String {
        let problem = self.describe().render(Lang::En, "", "");
        let mut text = problem.detail;
        for issue in problem.errors {
            let place = issue
                .pointer
                .or(issue.parameter)
                .or(issue.header)
                .unwrap_or_default();
            text.push_str(&format!(" {place}: {}", issue.message));
        }
        text
    }

    fn describe(&self) -> Described {
        match self {
            ApiError::InvalidParameters(issues) => Described::new(
                StatusCode::BAD_REQUEST,
                "invalid-parameters",
                (
                    "Parámetros de la solicitud no válidos",
                    "Invalid request parameters",
                ),
                (
                    "Revise los parámetros indicados en `errors`.".into(),
                    "Check the parameters listed in `errors`.".into(),
                ),
            )
            .with_issues(issues.clone()),
            ApiError::MalformedJson(reason) => Described::new(
                StatusCode::BAD_REQUEST,
                "malformed-json",
                ("Cuerpo JSON mal formado", "Malformed JSON body"),
                (
                    format!("El cuerpo no es JSON válido: {reason}."),
                    format!("The body is not valid JSON: {reason}."),
                ),
            ),
            ApiError::UnsupportedMediaType => Described::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "unsupported-media-type",
                ("Tipo de contenido no admitido", "Unsupported media type"),
                (
                    "Envíe el cuerpo con `Content-Type: application/json`.".into(),
                    "Send the body with `Content-Type: application/json`.".into(),
                ),
            ),
            ApiError::PayloadTooLarge { limit } => Described::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                "payload-too-large",
                ("Cuerpo demasiado grande", "Payload too large"),
                (
                    format!("El cuerpo supera el máximo de {limit} bytes."),
                    format!("The body exceeds the limit of {limit} bytes."),
                ),
            ),
            ApiError::Validation(issues) => Described::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "validation-failed",
                ("Datos no válidos", "Validation failed"),
                (
                    "Revise los campos indicados en `errors`.".into(),
                    "Check the fields listed in `errors`.".into(),
                ),
            )
            .with_issues(issues.clone()),
            ApiError::Unauthenticated(reason) => Described::new(
                StatusCode::UNAUTHORIZED,
                "unauthenticated",
                ("Se requiere autenticación", "Authentication required"),
                (reason.message(Lang::Es), reason.message(Lang::En)),
            )
            .with_header(header::WWW_AUTHENTICATE, reason.www_authenticate()),
            ApiError::MissingScope { scope } => Described::new(
                StatusCode::FORBIDDEN,
                "insufficient-scope",
                ("Permisos insuficientes", "Insufficient scope"),
                (
                    format!("El token no incluye el permiso (scope) `{scope}`."),
                    format!("The token does not grant the scope `{scope}`."),
                ),
            )
            .with_header(
                header::WWW_AUTHENTICATE,
                format!("Bearer realm=\"redes\", error=\"insufficient_scope\", scope=\"{scope}\""),
            ),
            ApiError::NotFound { resource, id } => Described::new(
                StatusCode::NOT_FOUND,
                "not-found",
                ("No encontrado", "Not found"),
                (
                    format!("No existe {} `{id}`.", resource.name(Lang::Es)),
                    format!("There is no {} `{id}`.", resource.name(Lang::En)),
                ),
            ),
            ApiError::ForeignTerritory(issues) => Described::new(
                StatusCode::FORBIDDEN,
                "foreign-territory",
                ("Territorio ajeno", "Foreign territory"),
                (
                    "Su token no le permite actuar en ese territorio (vea `errors`).".into(),
                    "Your token does not let you act in that territory (see `errors`).".into(),
                ),
            )
            .with_issues(issues.clone()),
            ApiError::Escalation(issues) => Described::new(
                StatusCode::FORBIDDEN,
                "scope-not-held",
                ("Permiso no otorgable", "Scope not held"),
                (
                    "Solo puede otorgar permisos (scopes) que su token tiene (vea `errors`)."
                        .into(),
                    "You can only grant scopes your token holds (see `errors`).".into(),
                ),
            )
            .with_issues(issues.clone()),
            ApiError::OAuth {
                error,
                status,
                detail,
                basic,
            } => {
                let described = Described::new(
                    *status,
                    "oauth",
                    ("Error de OAuth", "OAuth error"),
                    detail.clone(),
                )
                .with_oauth_error(error);
                if *basic {
                    described.with_header(
                        header::WWW_AUTHENTICATE,
                        "Basic realm=\"redes\", charset=\"UTF-8\"".to_owned(),
                    )
                } else {
                    described
                }
            }
            ApiError::TooManyRequests { retry_after, limit } => Described::new(
                StatusCode::TOO_MANY_REQUESTS,
                "too-many-requests",
                ("Demasiadas solicitudes", "Too many requests"),
                (
                    format!(
                        "Superó el límite de solicitudes de su cliente ({limit} por segundo); \
                         reintente en {retry_after} s."
                    ),
                    format!(
                        "Your client exceeded its request limit ({limit} per second); retry in \
                         {retry_after} s."
                    ),
                ),
            )
            .with_header(header::RETRY_AFTER, retry_after.to_string()),
            ApiError::Taken(issues) => Described::new(
                StatusCode::CONFLICT,
                "conflict",
                ("Conflicto", "Conflict"),
                (
                    "Otro recurso ya tiene un valor que debe ser único (vea `errors`).".into(),
                    "Another resource already has a value that must be unique (see `errors`)."
                        .into(),
                ),
            )
            .with_issues(issues.clone()),
            ApiError::UnknownReference(issues) => Described::new(
                StatusCode::NOT_FOUND,
                "unknown-reference",
                ("Referencia inexistente", "Unknown reference"),
                (
                    "La solicitud nombra recursos que no existen o que usted no puede ver \
                     (vea `errors`)."
                        .into(),
                    "The request names resources that do not exist or that you cannot see \
                     (see `errors`)."
                        .into(),
                ),
            )
            .with_issues(issues.clone()),
            ApiError::DanglingReference(issues) => Described::new(
                StatusCode::CONFLICT,
                "dangling-reference",
                (
                    "Referencia a un recurso inexistente",
                    "Reference to a missing resource",
                ),
                (
                    "El cuerpo se refiere a recursos que no existen o que usted no puede ver \
                     (vea `errors`): créelos primero o corrija sus ids."
                        .into(),
                    "The body refers to resources that do not exist or that you cannot see \
                     (see `errors`): create them first or correct their ids."
                        .into(),
                ),
            )
            .with_issues(issues.clone()),
            ApiError::StateConflict(issues) => Described::new(
                StatusCode::CONFLICT,
                "state-conflict",
                (
                    "Conflicto con el estado actual",
                    "Conflict with the current state",
                ),
                (
                    "La solicitud es válida, pero aplicada al recurso tal como está lo dejaría \
                     inválido (vea `errors`)."
                        .into(),
                    "The request is well formed, but applied to the resource as it is it would \
                     leave it invalid (see `errors`)."
                        .into(),
                ),
            )
            .with_issues(issues.clone()),
            ApiError::InUse => Described::in_use(),
            ApiError::PreconditionFailed => Described::new(
                StatusCode::PRECONDITION_FAILED,
                "precondition-failed",
                ("Precondición fallida", "Precondition failed"),
                (
                    "El recurso cambió desde el ETag enviado en If-Match: léalo de nuevo y \
                     reintente con su ETag actual."
                        .into(),
                    "The resource changed since the ETag sent in If-Match: read it again and \
                     retry with its current ETag."
                        .into(),
                ),
            ),
            ApiError::ConcurrentChange => Described::new(
                StatusCode::CONFLICT,
                "concurrent-change",
                ("Cambio concurrente", "Concurrent change"),
                (
                    "Otra solicitud modificó el recurso al mismo tiempo; reintente.".into(),
                    "Another request changed the resource at the same time; retry.".into(),
                ),
            ),
            ApiError::InvalidIdempotencyKey => Described::new(
                StatusCode::BAD_REQUEST,
                "invalid-idempotency-key",
                ("Idempotency-Key no válida", "Invalid Idempotency-Key"),
                (
                    "La cabecera `Idempotency-Key` debe aparecer una vez, con 1 a 255 caracteres \
                     ASCII visibles (sin espacios), opcionalmente entre comillas dobles."
                        .into(),
                    "The `Idempotency-Key` header must be sent once, with 1 to 255 visible ASCII \
                     characters (no spaces), optionally in double quotes."
                        .into(),
                ),
            )
            .with_issues(vec![Issue {
                location: Location::Header("Idempotency-Key".into()),
                kind: IssueKind::format(
                    "1 a 255 caracteres ASCII visibles",
                    "1 to 255 visible ASCII characters",
                ),
            }]),
            ApiError::IdempotencyKeyReused => Described::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "idempotency-key-reused",
                (
                    "Idempotency-Key usada en otra solicitud",
                    "Idempotency-Key reused",
                ),
                (
                    "Esta `Idempotency-Key` ya se usó en las últimas 24 horas para una solicitud \
                     distinta (método, ruta, consulta o cuerpo); use una clave nueva para una \
                     solicitud nueva."
                        .into(),
                    "This `Idempotency-Key` was used in the last 24 hours for a different request \
                     (method, path, query or body); use a new key for a new request."
                        .into(),
                ),
            ),
            ApiError::IdempotencyKeyInUse => Described::new(
                StatusCode::CONFLICT,
                "idempotency-key-in-use",
                ("Solicitud en curso", "Request in progress"),
                (
                    "La primera solicitud con esta `Idempotency-Key` aún se está procesando; \
                     reintente después de `Retry-After` segundos para recibir su respuesta."
                        .into(),
                    "The first request with this `Idempotency-Key` is still being served; retry \
                     after `Retry-After` seconds to receive its response."
                        .into(),
                ),
            )
            .with_header(header::RETRY_AFTER, "1".into()),
            ApiError::RouteNotFound => Described::route_not_found(),
            ApiError::MethodNotAllowed { allow } => {
                Described::for_status(StatusCode::METHOD_NOT_ALLOWED)
                    .with_header(header::ALLOW, allow.clone())
            }
            ApiError::Database(error) => match classify(error) {
                DatabaseFailure::Unavailable => Described::unavailable(),
                DatabaseFailure::Conflict => Described::new(
                    StatusCode::CONFLICT,
                    "conflict",
                    ("Conflicto", "Conflict"),
                    (
                        "Ya existe un recurso con ese valor único.".into(),
                        "A resource with that unique value already exists.".into(),
                    ),
                ),
                DatabaseFailure::InUse => Described::in_use(),
                DatabaseFailure::Internal => {
                    Described::for_status(StatusCode::INTERNAL_SERVER_ERROR)
                }
            },
            ApiError::Unavailable(_) => Described::unavailable(),
            ApiError::Internal(_) => Described::for_status(StatusCode::INTERNAL_SERVER_ERROR),
        }
    }
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        self.describe().status
    }

    fn error_response(&self) -> HttpResponse {
        match self {
            ApiError::Internal(error) => {
                tracing::error!(error = format!("{error:#}"), "internal error");
            }
            ApiError::Unavailable(reason) => {
                tracing::warn!(reason = reason.as_str(), "database unavailable");
            }
            ApiError::Database(error) => match classify(error) {
                DatabaseFailure::Unavailable => {
                    tracing::warn!(error = %error, "database unavailable");
                }
                DatabaseFailure::Conflict | DatabaseFailure::InUse => {}
                DatabaseFailure::Internal => tracing::error!(error = %error, "database error"),
            },
            _ => {}
        }
        self.describe().into_response()
    }
}

/// How a database error reaches the client.
enum DatabaseFailure {
    /// The database is unreachable or momentarily busy: 503 and retry.
    Unavailable,
    /// A unique constraint refused the write: 409.
    Conflict,
    /// A foreign key refused a delete: 409.
    InUse,
    /// Anything else is a bug or an operational fault: 500, cause in the log only.
    Internal,
}

fn classify(error: &diesel::result::Error) -> DatabaseFailure {
    use diesel::result::Error as E;
    match error {
        E::DatabaseError(kind, info) => match kind {
            DatabaseErrorKind::ClosedConnection
            | DatabaseErrorKind::UnableToSendCommand
            // A writer lost a race it can win by trying again.
            | DatabaseErrorKind::SerializationFailure => DatabaseFailure::Unavailable,
            DatabaseErrorKind::UniqueViolation => DatabaseFailure::Conflict,
            DatabaseErrorKind::ForeignKeyViolation => DatabaseFailure::InUse,
            // SQLite's SQLITE_BUSY after busy_timeout: momentarily unavailable.
            _ if info.message().contains("database is locked") => DatabaseFailure::Unavailable,
            _ => DatabaseFailure::Internal,
        },
        E::BrokenTransactionManager => DatabaseFailure::Unavailable,
        _ => DatabaseFailure::Internal,
    }
}

impl From<r2d2::Error> for ApiError {
    fn from(error: r2d2::Error) -> Self {
        ApiError::Unavailable(error.to_string())
    }
}

/// `JsonConfig` error handler: actix's JSON extractor errors as problems (413, 415, 400, 422).
pub fn json_error(
    limit: usize,
) -> impl Fn(actix_web::error::JsonPayloadError, &actix_web::HttpRequest) -> actix_web::Error
+ Send
+ Sync
+ 'static {
    move |error, _| ApiError::from_json_error(&error, limit).into()
}

/// `PathConfig` error handler: a path segment that does not parse names no resource.
pub fn path_error(_: actix_web::error::PathError, _: &actix_web::HttpRequest) -> actix_web::Error {
    ApiError::RouteNotFound.into()
}

/// `QueryConfig` error handler, for any handler that uses actix's `web::Query`.
pub fn query_error(
    error: actix_web::error::QueryPayloadError,
    _: &actix_web::HttpRequest,
) -> actix_web::Error {
    // The enum is non-exhaustive; every variant is a query the handler's type cannot read.
    let detail = match error {
        actix_web::error::QueryPayloadError::Deserialize(error) => error.to_string(),
        other => other.to_string(),
    };
    ApiError::InvalidParameters(vec![Issue {
        location: Location::Query(String::new()),
        kind: IssueKind::InvalidBody { detail },
    }])
    .into()
}

impl ApiError {
    fn from_json_error(error: &actix_web::error::JsonPayloadError, limit: usize) -> ApiError {
        use actix_web::error::{JsonPayloadError as J, PayloadError};
        match error {
            J::OverflowKnownLength { limit, .. } | J::Overflow { limit } => {
                ApiError::PayloadTooLarge { limit: *limit }
            }
            J::Payload(PayloadError::Overflow) => ApiError::PayloadTooLarge { limit },
            J::ContentType => ApiError::UnsupportedMediaType,
            J::Deserialize(e) if e.is_data() => ApiError::Validation(vec![Issue::body(
                "",
                IssueKind::InvalidBody {
                    detail: e.to_string(),
                },
            )]),
            J::Deserialize(e) => {
                ApiError::MalformedJson(format!("line {}, column {}", e.line(), e.column()))
            }
            // An incomplete or undecodable body (and variants added to this non-exhaustive enum).
            _ => ApiError::MalformedJson("the body could not be read".into()),
        }
    }
}

/// A problem ready to render, in both languages; the middleware picks one.
#[derive(Debug, Clone)]
pub struct Described {
    status: StatusCode,
    slug: &'static str,
    title: (&'static str, &'static str),
    detail: (String, String),
    issues: Vec<Issue>,
    headers: Vec<(header::HeaderName, String)>,
    /// The RFC 6749 error code, for the token endpoint's errors.
    oauth_error: Option<&'static str>,
}

impl Described {
    fn new(
        status: StatusCode,
        slug: &'static str,
        title: (&'static str, &'static str),
        detail: (String, String),
    ) -> Self {
        Described {
            status,
            slug,
            title,
            detail,
            issues: Vec::new(),
            headers: Vec::new(),
            oauth_error: None,
        }
    }

    fn with_oauth_error(mut self, error: &'static str) -> Self {
        self.oauth_error = Some(error);
        self
    }

    fn with_issues(mut self, issues: Vec<Issue>) -> Self {
        self.issues = issues;
        self
    }

    fn with_header(mut self, name: header::HeaderName, value: String) -> Self {
        self.headers.push((name, value));
        self
    }

    fn in_use() -> Self {
        Described::new(
            StatusCode::CONFLICT,
            "in-use",
            ("Recurso en uso", "Resource in use"),
            (
                "Otros recursos se refieren a este; cámbielos o elimínelos primero.".into(),
                "Other resources refer to this one; change or delete them first.".into(),
            ),
        )
    }

    fn route_not_found() -> Self {
        Described::new(
            StatusCode::NOT_FOUND,
            "not-found",
            ("No encontrado", "Not found"),
            (
                "No hay ningún recurso en esta ruta; vea /docs para las rutas de la API.".into(),
                "There is no resource at this path; see /docs for the API's paths.".into(),
            ),
        )
    }

    fn unavailable() -> Self {
        Described::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "service-unavailable",
            ("Servicio no disponible", "Service unavailable"),
            (
                "La base de datos no está disponible por el momento; reintente en unos segundos."
                    .into(),
                "The database is unavailable at the moment; retry in a few seconds.".into(),
            ),
        )
        .with_header(header::RETRY_AFTER, RETRY_AFTER_SECONDS.to_string())
    }

    /// A problem for an error response that did not come from an [`ApiError`].
    fn for_status(status: StatusCode) -> Self {
        match status {
            StatusCode::NOT_FOUND => Described::route_not_found(),
            StatusCode::SERVICE_UNAVAILABLE => Described::unavailable(),
            StatusCode::METHOD_NOT_ALLOWED => Described::new(
                status,
                "method-not-allowed",
                ("Método no permitido", "Method not allowed"),
                (
                    "Esta ruta no admite este método HTTP.".into(),
                    "This path does not accept this HTTP method.".into(),
                ),
            ),
            StatusCode::REQUEST_TIMEOUT => Described::new(
                status,
                "request-timeout",
                ("Tiempo de espera agotado", "Request timeout"),
                (
                    "La solicitud no llegó completa a tiempo.".into(),
                    "The request did not arrive in time.".into(),
                ),
            ),
            StatusCode::UNSUPPORTED_MEDIA_TYPE => ApiError::UnsupportedMediaType.describe(),
            StatusCode::PAYLOAD_TOO_LARGE => Described::new(
                status,
                "payload-too-large",
                ("Cuerpo demasiado grande", "Payload too large"),
                (
                    "El cuerpo supera el tamaño máximo admitido.".into(),
                    "The body exceeds the maximum size accepted.".into(),
                ),
            ),
            StatusCode::INTERNAL_SERVER_ERROR => Described::new(
                status,
                "internal-error",
                ("Error interno del servidor", "Internal server error"),
                (
                    "Ocurrió un error inesperado; se registró con el request_id de esta respuesta."
                        .into(),
                    "An unexpected error occurred; it was logged with this response's request_id."
                        .into(),
                ),
            ),
            _ if status.is_client_error() => Described::new(
                status,
                "bad-request",
                ("Solicitud no válida", "Bad request"),
                (
                    "El servidor no pudo procesar la solicitud tal como fue enviada.".into(),
                    "The server could not process the request as sent.".into(),
                ),
            ),
            _ => Described::new(
                status,
                "server-error",
                ("Error del servidor", "Server error"),
                (
                    "El servidor no pudo completar la solicitud.".into(),
                    "The server could not complete the request.".into(),
                ),
            ),
        }
    }

    /// A complete problem response in English; [`render_problems`] rewrites its body in the
    /// client's language with the request id and path.
    fn into_response(self) -> HttpResponse {
        let mut response = HttpResponse::build(self.status);
        for (name, value) in &self.headers {
            if let Ok(value) = HeaderValue::from_str(value) {
                response.insert_header((name.clone(), value));
            }
        }
        response.insert_header((header::CONTENT_TYPE, PROBLEM_JSON));
        let body = serde_json::to_vec(&self.render(Lang::En, "", "")).unwrap_or_default();
        let mut response = response.body(body);
        response.extensions_mut().insert(self);
        response
    }

    fn render(&self, lang: Lang, instance: &str, request_id: &str) -> Problem {
        Problem {
            problem_type: format!("urn:redes:problem:{}", self.slug),
            title: lang.pick(self.title.0, self.title.1).to_owned(),
            status: self.status.as_u16(),
            detail: lang.pick(&self.detail.0, &self.detail.1).clone(),
            instance: instance.to_owned(),
            request_id: request_id.to_owned(),
            error: self.oauth_error.map(str::to_owned),
            error_description: self
                .oauth_error
                .map(|_| lang.pick(&self.detail.0, &self.detail.1).clone()),
            errors: self
                .issues
                .iter()
                .map(|issue| ProblemIssue::new(issue, lang))
                .collect(),
        }
    }
}

/// An error, as RFC 9457 *problem details* (`application/problem+json`).
///
/// `type` is a URN naming the kind of problem (`urn:redes:problem:validation-failed`, …; the
/// list is in docs/API-DESIGN.md); `title` and `detail` are in Spanish or English according to
/// `Accept-Language`. Validation problems list **every** problem of the request in `errors`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[schema(example = json!({
    "type": "urn:redes:problem:invalid-parameters",
    "title": "Invalid request parameters",
    "status": 400,
    "detail": "Check the parameters listed in `errors`.",
    "instance": "/api/v1/territories",
    "request_id": "5f0c6a2e-0b1d-4a53-9d47-2b8f0e1c9a10",
    "errors": [
        {"parameter": "limit", "code": "out_of_range", "message": "Must be between 1 and 500."},
        {"parameter": "level", "code": "invalid_choice", "message": "Invalid value; expected one of: country, region, provincia, comuna, departamento, municipio."}
    ]
}))]
pub struct Problem {
    /// The kind of problem, a URN: `urn:redes:problem:<kind>`.
    #[serde(rename = "type")]
    pub problem_type: String,
    /// A short summary of the kind of problem, in the client's language.
    pub title: String,
    /// The HTTP status code.
    pub status: u16,
    /// What went wrong with this request, in the client's language.
    pub detail: String,
    /// The path of the request.
    pub instance: String,
    /// The request's id, also in the `X-Request-Id` header; quote it when reporting a problem.
    pub request_id: String,
    /// The RFC 6749 §5.2 error code (`invalid_client`, `invalid_scope`, …): only in the token
    /// endpoint's errors, which OAuth 2.0 clients read.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// The same as `detail`, for OAuth 2.0 clients (token endpoint errors only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error_description: Option<String>,
    /// Every problem found with the request's parameters or body (validation problems only).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<ProblemIssue>,
}

/// One problem with one part of the request.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[schema(example = json!(
    {"parameter": "level", "code": "invalid_choice",
     "message": "Invalid value; expected one of: country, region, provincia, comuna, departamento, municipio."}
))]
pub struct ProblemIssue {
    /// JSON Pointer (RFC 6901) to the offending field of the body, e.g. `/members/0/joined_on`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pointer: Option<String>,
    /// The offending query or path parameter.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parameter: Option<String>,
    /// The offending header.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub header: Option<String>,
    /// A stable, machine-readable code: `required`, `invalid_choice`, `out_of_range`, …
    pub code: String,
    /// What is wrong, in the client's language.
    pub message: String,
}

impl ProblemIssue {
    fn new(issue: &Issue, lang: Lang) -> Self {
        let (mut pointer, mut parameter, mut header) = (None, None, None);
        match &issue.location {
            Location::Query(name) | Location::Path(name) => parameter = Some(name.clone()),
            Location::Body(p) => pointer = Some(p.clone()),
            Location::Header(name) => header = Some(name.clone()),
        }
        ProblemIssue {
            pointer,
            parameter,
            header,
            code: issue.kind.code().to_owned(),
            message: issue.kind.message(lang),
        }
    }
}

/// Middleware: writes every error response as a problem in the client's language.
pub async fn render_problems(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    // An `Err` here (rare: handler and extractor errors arrive as responses) keeps the body its
    // `error_response` wrote, an English problem without request id. The request cannot be kept
    // to rebuild it: holding a clone of it breaks actix's routing.
    let response = next.call(req).await?.map_into_boxed_body();
    let Some(rendered) = rendered_problem(response.request(), response.response()) else {
        return Ok(response);
    };
    let (body, lang) = rendered.map_err(actix_web::error::ErrorInternalServerError)?;
    Ok(response.map_body(|head, _| {
        head.headers_mut()
            .insert(header::CONTENT_TYPE, HeaderValue::from_static(PROBLEM_JSON));
        head.headers_mut().insert(
            header::CONTENT_LANGUAGE,
            HeaderValue::from_static(lang.tag()),
        );
        head.headers_mut()
            .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
        head.headers_mut().remove(header::CONTENT_ENCODING);
        head.headers_mut().remove(header::CONTENT_LENGTH);
        BoxBody::new(body)
    }))
}

/// The problem body [`render_problems`] writes for an error response to `req`, and its language;
/// `None` for a success, or for a problem written elsewhere (which is left as it is). The
/// idempotency store keeps this body, so that a replay is what the first client received.
pub fn rendered_problem<B>(
    req: &actix_web::HttpRequest,
    response: &HttpResponse<B>,
) -> Option<Result<(Vec<u8>, Lang), serde_json::Error>> {
    let status = response.status();
    if !(status.is_client_error() || status.is_server_error()) {
        return None;
    }
    let described = response.extensions().get::<Described>().cloned();
    if described.is_none() && is_problem(response.headers()) {
        return None;
    }
    let described = described.unwrap_or_else(|| Described::for_status(status));
    let lang = Lang::from_headers(req.headers());
    let request_id = req
        .extensions()
        .get::<RequestId>()
        .map(|id| id.as_str().to_owned())
        .unwrap_or_default();
    let problem = described.render(lang, req.path(), &request_id);
    Some(serde_json::to_vec(&problem).map(|body| (body, lang)))
}

fn is_problem(headers: &header::HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .is_some_and(|value| value.starts_with(PROBLEM_JSON))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn database_errors_map_to_statuses_without_leaking() {
        let closed = diesel::result::Error::DatabaseError(
            DatabaseErrorKind::ClosedConnection,
            Box::new("server closed the connection unexpectedly".to_owned()),
        );
        let closed = ApiError::from(closed);
        assert_eq!(closed.status_code(), StatusCode::SERVICE_UNAVAILABLE);
        let problem = closed.describe().render(Lang::En, "/x", "id");
        assert!(
            !problem.detail.contains("server closed"),
            "{}",
            problem.detail
        );
        let unique = diesel::result::Error::DatabaseError(
            DatabaseErrorKind::UniqueViolation,
            Box::new("duplicate key value violates unique constraint".to_owned()),
        );
        assert_eq!(ApiError::from(unique).status_code(), StatusCode::CONFLICT);
        let other = ApiError::from(diesel::result::Error::NotFound);
        assert_eq!(other.status_code(), StatusCode::INTERNAL_SERVER_ERROR);
        let problem = other.describe().render(Lang::En, "/x", "id");
        assert!(!problem.detail.contains("NotFound"));
    }

    #[test]
    fn json_extractor_errors_become_precise_problems() {
        use actix_web::error::JsonPayloadError as J;
        let status = |e: J| ApiError::from_json_error(&e, 1024).status_code().as_u16();
        assert_eq!(status(J::ContentType), 415);
        assert_eq!(status(J::Overflow { limit: 10 }), 413);
        assert_eq!(
            status(J::OverflowKnownLength {
                length: 20,
                limit: 10
            }),
            413
        );
        let syntax = serde_json::from_str::<serde_json::Value>("{oops").unwrap_err();
        assert_eq!(status(J::Deserialize(syntax)), 400);
        let data = serde_json::from_str::<u32>("\"seven\"").unwrap_err();
        let error = ApiError::from_json_error(&J::Deserialize(data), 1024);
        assert_eq!(error.status_code().as_u16(), 422);
        let problem = error.describe().render(Lang::En, "/x", "id");
        assert_eq!(problem.errors[0].code, "invalid_body");
        assert_eq!(problem.errors[0].pointer.as_deref(), Some(""));
        let fallback = Described::for_status(StatusCode::UNSUPPORTED_MEDIA_TYPE);
        assert_eq!(fallback.slug, "unsupported-media-type");
    }

    #[test]
    fn issues_render_with_their_location() {
        let error = ApiError::InvalidParameters(vec![
            Issue::query("limit", IssueKind::OutOfRange { min: 1, max: 500 }),
            Issue::body("/name", IssueKind::Required),
        ]);
        let problem = error
            .describe()
            .render(Lang::Es, "/api/v1/territories", "r-1");
        assert_eq!(problem.status, 400);
        assert_eq!(problem.errors.len(), 2);
        assert_eq!(problem.errors[0].parameter.as_deref(), Some("limit"));
        assert_eq!(problem.errors[0].message, "Debe estar entre 1 y 500.");
        assert_eq!(problem.errors[1].pointer.as_deref(), Some("/name"));
        assert_eq!(problem.problem_type, "urn:redes:problem:invalid-parameters");
    }
}
