//! HTTP handlers, one module per resource, and the registration every build of the app shares.

pub mod analytics;
pub mod articulation;
pub mod audit;
pub mod catalogues;
pub mod changes;
pub mod clients;
pub mod common;
pub mod discovery;
pub mod health;
pub mod import_jobs;
pub mod improvement_cycles;
pub mod indicator_import;
pub mod indicators;
pub mod links;
pub mod live_indicators;
pub mod mentoring_visits;
pub mod networks;
pub mod oauth;
pub mod organizations;
pub mod pei;
pub mod people;
pub mod plans;
pub mod schools;
pub mod sessions;
pub mod territories;

use actix_web::dev::{ServiceFactory, ServiceRequest};
use actix_web::{App, web};
use utoipa_actix_web::{UtoipaApp, scope, service_config::ServiceConfig};

/// The routes under `/api/v1`, written once and expanded twice: into utoipa's `ServiceConfig`,
/// which also collects the document ([`register`]), and into actix-web's, which only routes
/// ([`register_served`]). The served routes and the contract cannot diverge.
///
/// They are grouped by their first segment (`schools`, `networks`, …). The document lists the
/// groups in this order; for serving, each group is a scope that the router enters only when the
/// path's first segment is the group's ([`FirstSegment`]). Without groups, actix-web's router
/// tried every route registered before the one that matched, and each route with a `{…}`
/// segment is a regular expression: nine of them for `GET /api/v1/schools/{id}`, 11% of the
/// read (docs/PERFORMANCE.md), and more for every route further down.
macro_rules! api_v1_routes {
    ($cfg:ident, $group:ident) => {
        $cfg.service(discovery::get_discovery);
        $group!(
            $cfg,
            "territories",
            [
                territories::list_territories,
                territories::get_territory,
                territories::list_territory_ancestors,
                territories::list_territory_descendants,
            ]
        );
        $group!(
            $cfg,
            "organizations",
            [
                organizations::list_organizations,
                organizations::create_organization,
                organizations::get_organization,
                organizations::replace_organization,
                organizations::update_organization,
                organizations::delete_organization,
            ]
        );
        $group!(
            $cfg,
            "schools",
            [
                // Before `/schools/{id}`, which would otherwise take `by-code` for an id.
                schools::get_school_by_code,
                schools::list_schools,
                schools::create_school,
                schools::get_school,
                schools::replace_school,
                schools::update_school,
                schools::delete_school,
                networks::list_school_networks,
                pei::get_school_pei,
                pei::replace_school_pei,
                pei::update_school_pei,
                pei::list_school_pei_history,
                articulation::get_school_articulation,
            ]
        );
        $group!(
            $cfg,
            "networks",
            [
                networks::list_networks,
                networks::create_network,
                networks::get_network,
                networks::replace_network,
                networks::update_network,
                networks::delete_network,
                networks::list_network_members,
                networks::create_network_member,
                networks::get_network_member,
                networks::replace_network_member,
                networks::update_network_member,
                networks::delete_network_member,
                sessions::list_network_sessions,
                sessions::create_network_session,
                sessions::get_network_summary,
                articulation::get_network_articulation,
                sessions::list_network_agreements,
            ]
        );
        $group!(
            $cfg,
            "people",
            [
                people::list_people,
                people::create_person,
                people::get_person,
                people::replace_person,
                people::update_person,
                people::delete_person,
                people::list_person_networks,
            ]
        );
        $group!(
            $cfg,
            "sessions",
            [
                sessions::list_sessions,
                sessions::get_session,
                sessions::replace_session,
                sessions::update_session,
                sessions::delete_session,
            ]
        );
        $group!(
            $cfg,
            "plans",
            [
                plans::list_plans,
                plans::create_plan,
                plans::get_plan,
                plans::replace_plan,
                plans::update_plan,
                plans::delete_plan,
                links::list_plan_links,
                links::create_plan_link,
                links::get_plan_link,
                links::update_plan_link,
                links::delete_plan_link,
            ]
        );
        $group!(
            $cfg,
            "improvement-cycles",
            [
                improvement_cycles::list_improvement_cycles,
                improvement_cycles::create_improvement_cycle,
                improvement_cycles::get_improvement_cycle,
                improvement_cycles::replace_improvement_cycle,
                improvement_cycles::update_improvement_cycle,
                improvement_cycles::delete_improvement_cycle,
            ]
        );
        $group!(
            $cfg,
            "mentoring-visits",
            [
                mentoring_visits::list_mentoring_visits,
                mentoring_visits::create_mentoring_visit,
                mentoring_visits::get_mentoring_visit,
                mentoring_visits::replace_mentoring_visit,
                mentoring_visits::update_mentoring_visit,
                mentoring_visits::delete_mentoring_visit,
            ]
        );
        $group!(
            $cfg,
            "catalogues",
            [
                catalogues::list_catalogues,
                catalogues::get_catalogue,
                catalogues::create_catalogue_item,
                catalogues::get_catalogue_item,
                catalogues::delete_catalogue_item,
            ]
        );
        $group!(
            $cfg,
            "indicators",
            [
                indicators::list_indicators,
                indicators::get_indicator,
                indicators::create_indicator,
                indicators::delete_indicator,
            ]
        );
        $group!(
            $cfg,
            "indicator-values",
            [
                indicators::list_indicator_values,
                indicators::create_indicator_value,
                indicators::get_indicator_value,
                indicators::replace_indicator_value,
                indicators::delete_indicator_value,
            ]
        );
        $group!(
            $cfg,
            "indicator-values:import",
            [indicator_import::import_indicator_values,]
        );
        $group!($cfg, "import-jobs", [import_jobs::get_import_job,]);
        $group!($cfg, "analytics", [analytics::get_analytics,]);
        $group!($cfg, "changes", [changes::list_changes,]);
        $group!(
            $cfg,
            "clients",
            [
                clients::list_clients,
                clients::create_client,
                clients::get_client,
                clients::update_client,
                clients::rotate_client_secret,
                clients::revoke_client,
            ]
        );
        $group!($cfg, "audit", [audit::list_audit_entries,]);
    };
}

/// A group of routes for the document: the routes, in order.
macro_rules! document_group {
    ($cfg:ident, $segment:literal, [$($route:path),+ $(,)?]) => {
        $cfg$(.service($route))+;
    };
}

/// A group of routes for serving: a scope without a prefix of its own, entered only by paths
/// whose first segment under `/api/v1` is the group's.
macro_rules! served_group {
    ($cfg:ident, $segment:literal, [$($route:path),+ $(,)?]) => {
        $cfg.service(web::scope("").guard(FirstSegment($segment))$(.service($route))+);
    };
}

/// The routes outside `/api/v1` (see [`api_v1_routes`]).
macro_rules! operation_routes {
    ($cfg:ident) => {
        $cfg.service(oauth::create_token)
            .service(oauth::get_token_info)
            .service(oauth::get_jwks)
            .service(health::live)
            .service(health::ready)
            .service(health::metrics);
    };
}

/// Registers every documented route and collects the OpenAPI document (`redes openapi` and
/// [`crate::openapi::document`]).
pub fn register<T>(app: UtoipaApp<T>) -> UtoipaApp<T>
where
    T: ServiceFactory<ServiceRequest, Config = (), Error = actix_web::Error, InitError = ()>,
{
    app.service(scope::scope("/api/v1").configure(api_v1))
        .configure(operations)
}

/// Registers the same routes for serving, without building the document again: each HTTP
/// worker builds its own app, and a document per worker cost several MB of memory each
/// (docs/PERFORMANCE.md).
pub fn register_served<T>(app: App<T>) -> App<T>
where
    T: ServiceFactory<ServiceRequest, Config = (), Error = actix_web::Error, InitError = ()>,
{
    app.service(web::scope("/api/v1").configure(|cfg| {
        api_v1_routes!(cfg, served_group);
    }))
    .configure(|cfg| {
        operation_routes!(cfg);
    })
}

fn api_v1(cfg: &mut ServiceConfig) {
    api_v1_routes!(cfg, document_group);
}

/// Passes a request whose path under `/api/v1/` starts with the segment `.0` (compared
/// percent-decoded, as the router compares paths).
pub struct FirstSegment(pub &'static str);

impl actix_web::guard::Guard for FirstSegment {
    fn check(&self, ctx: &actix_web::guard::GuardContext<'_>) -> bool {
        let Some(rest) = ctx.head().uri.path().strip_prefix("/api/v1/") else {
            return false;
        };
        let segment = rest.split('/').next().unwrap_or_default();
        if segment.contains('%') {
            percent_encoding::percent_decode_str(segment).eq(self.0.bytes())
        } else {
            segment == self.0
        }
    }
}

fn operations(cfg: &mut ServiceConfig) {
    operation_routes!(cfg);
}

/// The methods each documented path accepts, to answer 405 with `Allow` rather than 404 when a
/// path exists but not with the method used.
pub struct RouteTable {
    routes: Vec<(Vec<String>, Vec<String>)>,
    /// The documented paths as the router's patterns, in the document's order (the order the
    /// routes were registered in).
    patterns: Vec<(std::sync::Arc<str>, actix_web::dev::ResourceDef)>,
}

impl RouteTable {
    pub fn from_openapi(doc: &serde_json::Value) -> RouteTable {
        let routes = doc["paths"]
            .as_object()
            .into_iter()
            .flatten()
            .map(|(path, item)| {
                let segments = path.split('/').map(str::to_owned).collect();
                let methods = ["get", "put", "post", "delete", "options", "head", "patch"]
                    .iter()
                    .filter(|m| item.get(**m).is_some())
                    .map(|m| m.to_uppercase())
                    .collect();
                (segments, methods)
            })
            .collect();
        let patterns = doc["paths"]
            .as_object()
            .into_iter()
            .flatten()
            .map(|(path, _)| {
                (
                    path.as_str().into(),
                    actix_web::dev::ResourceDef::new(path.as_str()),
                )
            })
            .collect();
        RouteTable { routes, patterns }
    }

    /// The documented route a path is served by, as its template (`/api/v1/schools/{id}`):
    /// the first pattern that matches it, as the router takes the first route. actix-web's
    /// own `match_pattern` cannot see past the groups' scopes ([`served_group`]): it stops at
    /// the first scope whose prefix matches, and every group's prefix is empty.
    pub fn template(&self, path: &str) -> Option<std::sync::Arc<str>> {
        self.patterns
            .iter()
            .find(|(_, pattern)| pattern.is_match(path))
            .map(|(template, _)| template.clone())
    }

    /// The methods allowed on a concrete path, if any documented path matches it.
    pub fn allowed(&self, path: &str) -> Option<String> {
        let segments: Vec<&str> = path.split('/').collect();
        self.routes
            .iter()
            .find(|(template, _)| {
                template.len() == segments.len()
                    && template.iter().zip(&segments).all(|(t, s)| {
                        t == s || (t.starts_with('{') && t.ends_with('}') && !s.is_empty())
                    })
            })
            .map(|(_, methods)| methods.join(", "))
    }
}

/// Where requests no route took end: 405 on a known path, 404 otherwise.
pub async fn fallback(
    req: actix_web::HttpRequest,
    table: actix_web::web::Data<RouteTable>,
) -> Result<actix_web::HttpResponse, crate::error::ApiError> {
    Err(match table.allowed(req.path()) {
        Some(allow) => crate::error::ApiError::MethodNotAllowed { allow },
        None => crate::error::ApiError::RouteNotFound,
    })
}
