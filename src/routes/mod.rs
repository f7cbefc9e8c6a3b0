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
macro_rules! api_v1_routes {
    ($cfg:ident) => {
        $cfg.service(discovery::get_discovery)
            .service(territories::list_territories)
            .service(territories::get_territory)
            .service(territories::list_territory_ancestors)
            .service(territories::list_territory_descendants)
            .service(organizations::list_organizations)
            .service(organizations::create_organization)
            .service(organizations::get_organization)
            .service(organizations::replace_organization)
            .service(organizations::update_organization)
            .service(organizations::delete_organization)
            // Before `/schools/{id}`, which would otherwise take `by-code` for an id.
            .service(schools::get_school_by_code)
            .service(schools::list_schools)
            .service(schools::create_school)
            .service(schools::get_school)
            .service(schools::replace_school)
            .service(schools::update_school)
            .service(schools::delete_school)
            .service(networks::list_school_networks)
            .service(pei::get_school_pei)
            .service(pei::replace_school_pei)
            .service(pei::update_school_pei)
            .service(pei::list_school_pei_history)
            .service(articulation::get_school_articulation)
            .service(networks::list_networks)
            .service(networks::create_network)
            .service(networks::get_network)
            .service(networks::replace_network)
            .service(networks::update_network)
            .service(networks::delete_network)
            .service(networks::list_network_members)
            .service(networks::create_network_member)
            .service(networks::get_network_member)
            .service(networks::replace_network_member)
            .service(networks::update_network_member)
            .service(networks::delete_network_member)
            .service(people::list_people)
            .service(people::create_person)
            .service(people::get_person)
            .service(people::replace_person)
            .service(people::update_person)
            .service(people::delete_person)
            .service(people::list_person_networks)
            .service(sessions::list_network_sessions)
            .service(sessions::create_network_session)
            .service(sessions::get_network_summary)
            .service(articulation::get_network_articulation)
            .service(sessions::list_network_agreements)
            .service(sessions::list_sessions)
            .service(sessions::get_session)
            .service(sessions::replace_session)
            .service(sessions::update_session)
            .service(sessions::delete_session)
            .service(plans::list_plans)
            .service(plans::create_plan)
            .service(plans::get_plan)
            .service(plans::replace_plan)
            .service(plans::update_plan)
            .service(plans::delete_plan)
            .service(links::list_plan_links)
            .service(links::create_plan_link)
            .service(links::get_plan_link)
            .service(links::update_plan_link)
            .service(links::delete_plan_link)
            .service(improvement_cycles::list_improvement_cycles)
            .service(improvement_cycles::create_improvement_cycle)
            .service(improvement_cycles::get_improvement_cycle)
            .service(improvement_cycles::replace_improvement_cycle)
            .service(improvement_cycles::update_improvement_cycle)
            .service(improvement_cycles::delete_improvement_cycle)
            .service(mentoring_visits::list_mentoring_visits)
            .service(mentoring_visits::create_mentoring_visit)
            .service(mentoring_visits::get_mentoring_visit)
            .service(mentoring_visits::replace_mentoring_visit)
            .service(mentoring_visits::update_mentoring_visit)
            .service(mentoring_visits::delete_mentoring_visit)
            .service(catalogues::list_catalogues)
            .service(catalogues::get_catalogue)
            .service(catalogues::create_catalogue_item)
            .service(catalogues::get_catalogue_item)
            .service(catalogues::delete_catalogue_item)
            .service(indicators::list_indicators)
            .service(indicators::get_indicator)
            .service(indicators::create_indicator)
            .service(indicators::delete_indicator)
            .service(indicators::list_indicator_values)
            .service(indicator_import::import_indicator_values)
            .service(import_jobs::get_import_job)
            .service(indicators::create_indicator_value)
            .service(indicators::get_indicator_value)
            .service(indicators::replace_indicator_value)
            .service(indicators::delete_indicator_value)
            .service(analytics::get_analytics)
            .service(changes::list_changes)
            .service(clients::list_clients)
            .service(clients::create_client)
            .service(clients::get_client)
            .service(clients::update_client)
            .service(clients::rotate_client_secret)
            .service(clients::revoke_client)
            .service(audit::list_audit_entries);
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
        api_v1_routes!(cfg);
    }))
    .configure(|cfg| {
        operation_routes!(cfg);
    })
}

fn api_v1(cfg: &mut ServiceConfig) {
    api_v1_routes!(cfg);
}

fn operations(cfg: &mut ServiceConfig) {
    operation_routes!(cfg);
}

/// The methods each documented path accepts, to answer 405 with `Allow` rather than 404 when a
/// path exists but not with the method used.
pub struct RouteTable {
    routes: Vec<(Vec<String>, Vec<String>)>,
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
        RouteTable { routes }
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
