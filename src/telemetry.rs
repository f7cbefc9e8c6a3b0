//! Logs and request ids.
//!
//! Logs go to stderr (stdout belongs to CLI output such as `redes token`), as JSON lines when
//! stderr is not a terminal and human-readable otherwise. Every request carries an id: the
//! client's `X-Request-Id` when it sent a sensible one, a fresh UUID otherwise; the id is in every
//! log line of the request, in every problem body and in the `X-Request-Id` response header.

use std::borrow::Cow;
use std::cell::RefCell;
use std::collections::HashMap;
use std::io::IsTerminal;
use std::sync::Arc;
use std::time::Instant;

use actix_web::HttpMessage;
use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{HeaderName, HeaderValue};
use actix_web::middleware::Next;
use actix_web::web;
use tracing::Span;
use tracing_actix_web::RootSpanBuilder;
use tracing_subscriber::EnvFilter;
use tracing_subscriber::fmt::writer::BoxMakeWriter;

use crate::metrics::Metrics;

pub const REQUEST_ID_HEADER: HeaderName = HeaderName::from_static("x-request-id");

/// How log lines are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    /// JSON when stderr is not a terminal, pretty otherwise.
    Auto,
    Json,
    Pretty,
}

/// Installs the global tracing subscriber. `filter` uses `RUST_LOG` syntax (`info`,
/// `redes=debug,actix_web=info`). Calling it twice is harmless (tests build many apps).
pub fn init(filter: &str, format: LogFormat) {
    let filter = EnvFilter::try_new(filter).unwrap_or_else(|_| EnvFilter::new("info"));
    let json = match format {
        LogFormat::Json => true,
        LogFormat::Pretty => false,
        LogFormat::Auto => !std::io::stderr().is_terminal(),
    };
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(BoxMakeWriter::new(std::io::stderr));
    let result = if json {
        builder
            .json()
            .flatten_event(true)
            .with_current_span(true)
            .with_span_list(false)
            .try_init()
    } else {
        builder.try_init()
    };
    // A subscriber is already installed: keep it.
    drop(result);
}

/// The id of the request being served.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestId(String);

impl RequestId {
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The client's id if it is 1-128 visible ASCII characters (so it is safe in logs and
    /// headers), else a new UUID.
    fn from_request(req: &ServiceRequest) -> RequestId {
        req.headers()
            .get(&REQUEST_ID_HEADER)
            .and_then(|value| value.to_str().ok())
            .map(str::trim)
            .filter(|id| {
                !id.is_empty() && id.len() <= 128 && id.bytes().all(|b| b.is_ascii_graphic())
            })
            .map_or_else(
                || RequestId(uuid::Uuid::new_v4().to_string()),
                |id| RequestId(id.to_owned()),
            )
    }
}

/// The route template a request matched, or `unmatched` (kept in its extensions by
/// [`observe`]).
#[derive(Debug, Clone)]
struct RoutePattern(Arc<str>);

/// Route templates by path shape, for one worker's app (`App::app_data`, one per worker, so
/// without a lock).
///
/// actix finds a request's template by trying every route's pattern in turn, regular
/// expressions for those with parameters: a tenth of a small read's cost (docs/PERFORMANCE.md,
/// fourth round). A path's shape is the path with every UUID segment replaced by a NUL, which
/// no path can hold: no route has a UUID for a literal segment or constrains a parameter to
/// exclude one, so paths of one shape match the same template. The map is bounded: once full,
/// new shapes (arbitrary codes, unknown paths) are looked up each time.
#[derive(Debug, Default)]
pub struct RouteTemplates(RefCell<HashMap<String, Arc<str>>>);

/// Shapes kept per worker: every route a few times over, with room for keyed paths
/// (`/territories/CL-09`).
const ROUTE_SHAPES: usize = 4096;

impl RouteTemplates {
    fn template(&self, req: &ServiceRequest) -> Arc<str> {
        let path = req.path();
        let shape = path_shape(path);
        if let Some(template) = self.0.borrow().get(shape.as_ref()) {
            return template.clone();
        }
        let template = route_template(req);
        let mut known = self.0.borrow_mut();
        if known.len() < ROUTE_SHAPES {
            known.insert(shape.into_owned(), template.clone());
        }
        template
    }
}

/// The template of the route that serves `req`: a documented route's (see
/// [`crate::routes::RouteTable::template`]), else actix-web's pattern (the documentation UI),
/// else `unmatched`.
fn route_template(req: &ServiceRequest) -> Arc<str> {
    req.app_data::<web::Data<crate::routes::RouteTable>>()
        .and_then(|routes| routes.template(req.path()))
        .or_else(|| req.match_pattern().map(Into::into))
        .unwrap_or_else(|| "unmatched".into())
}

/// `path` with its UUID segments replaced by a NUL.
fn path_shape(path: &str) -> Cow<'_, str> {
    if !path
        .split('/')
        .any(|segment| segment.len() == 36 && uuid::Uuid::try_parse(segment).is_ok())
    {
        return Cow::Borrowed(path);
    }
    let segments: Vec<&str> = path
        .split('/')
        .map(|segment| {
            if segment.len() == 36 && uuid::Uuid::try_parse(segment).is_ok() {
                "\0"
            } else {
                segment
            }
        })
        .collect();
    Cow::Owned(segments.join("/"))
}

/// Outermost middleware: assigns the request id, counts and times the request, and writes the
/// access log line.
pub async fn observe(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let started = Instant::now();
    let request_id = RequestId::from_request(&req);
    // Found once, here, for the metrics, this log line and the root span.
    let route = RoutePattern(match req.app_data::<RouteTemplates>() {
        Some(templates) => templates.template(&req),
        None => route_template(&req),
    });
    req.extensions_mut().insert(request_id.clone());
    req.extensions_mut().insert(route.clone());
    let route = route.0;
    let metrics = req.app_data::<web::Data<Metrics>>().cloned();
    let method = req.method().clone();

    let mut response = next.call(req).await?;

    let elapsed = started.elapsed();
    let status = response.status();
    if let Some(metrics) = metrics {
        metrics.observe_request(method.as_str(), &route, status.as_u16(), elapsed);
    }
    if let Ok(value) = HeaderValue::from_str(request_id.as_str()) {
        response.headers_mut().insert(REQUEST_ID_HEADER, value);
    }
    tracing::info!(
        request_id = request_id.as_str(),
        method = method.as_str(),
        route = &*route,
        path = response.request().path(),
        status = status.as_u16(),
        duration_ms = elapsed.as_secs_f64() * 1000.0,
        "request"
    );
    Ok(response)
}

/// Root span of every request for `tracing_actix_web::TracingLogger`, carrying our request id
/// (rather than the crate's own) so that a client's id links its request to the logs.
pub struct RedesRootSpan;

impl RootSpanBuilder for RedesRootSpan {
    fn on_request_start(request: &ServiceRequest) -> Span {
        let extensions = request.extensions();
        tracing::info_span!(
            "http",
            request_id = extensions.get::<RequestId>().map_or("", RequestId::as_str),
            method = request.method().as_str(),
            route = extensions
                .get::<RoutePattern>()
                .map_or("unmatched", |r| &*r.0),
            status = tracing::field::Empty,
        )
    }

    fn on_request_end<B: MessageBody>(
        span: Span,
        outcome: &Result<ServiceResponse<B>, actix_web::Error>,
    ) {
        let status = match outcome {
            Ok(response) => response.status(),
            Err(error) => error.as_response_error().status_code(),
        };
        span.record("status", status.as_u16());
    }
}

#[cfg(test)]
mod tests {
    use super::path_shape;

    #[test]
    fn a_path_shape_hides_its_uuids_only() {
        let id = "5b1c2d3e-4f5a-4b6c-8d7e-9f0a1b2c3d4e";
        assert_eq!(
            path_shape(&format!("/api/v1/networks/{id}/members/{id}")),
            "/api/v1/networks/\0/members/\0"
        );
        assert!(matches!(
            path_shape("/api/v1/territories/CL-13"),
            std::borrow::Cow::Borrowed("/api/v1/territories/CL-13")
        ));
        // 36 characters that are not a UUID stay.
        let almost = "5b1c2d3e-4f5a-4b6c-8d7e-9f0a1b2c3d4x";
        assert_eq!(
            path_shape(&format!("/api/v1/schools/{almost}")),
            format!("/api/v1/schools/{almost}")
        );
    }
}
