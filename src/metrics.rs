//! Prometheus metrics: requests by route and status, latency, and the database pool.

use std::time::Duration;

use prometheus::{
    Encoder, HistogramOpts, HistogramVec, IntCounter, IntCounterVec, IntGauge, IntGaugeVec, Opts,
    Registry, TextEncoder,
};

/// The metrics of one running service. Routes are labelled by their pattern
/// (`/api/v1/territories/{territory}`), never by the concrete path, so the number of series
/// stays bounded whatever clients request.
pub struct Metrics {
    registry: Registry,
    requests: IntCounterVec,
    duration: HistogramVec,
    pool_connections: IntGaugeVec,
    pool_max_size: IntGauge,
    database_ready: IntGauge,
    statements: IntCounter,
    /// The read replica's pool, when one is configured.
    replica: Option<PoolMetrics>,
    /// Scrapes bring `statements` up to the pool's count one at a time.
    scrape: std::sync::Mutex<()>,
}

/// The gauges of the read replica's pool (`redes_db_read_replica_*`).
struct PoolMetrics {
    connections: IntGaugeVec,
    ready: IntGauge,
    statements: IntCounter,
}

/// The state of the database pool when metrics are scraped.
pub struct PoolSnapshot {
    pub connections: u32,
    pub idle: u32,
    pub max_size: u32,
    pub ready: bool,
    /// Statements sent by the pool's connections since the start.
    pub statements: u64,
}

impl Metrics {
    /// With `replica`, the read replica's pool has metrics of its own.
    pub fn new(replica: bool) -> Result<Self, prometheus::Error> {
        let registry = Registry::new_custom(Some("redes".into()), None)?;
        let requests = IntCounterVec::new(
            Opts::new(
                "http_requests_total",
                "HTTP requests by method, route and status",
            ),
            &["method", "route", "status"],
        )?;
        let duration = HistogramVec::new(
            HistogramOpts::new(
                "http_request_duration_seconds",
                "HTTP request latency by method and route",
            )
            .buckets(vec![
                0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0,
            ]),
            &["method", "route"],
        )?;
        let pool_connections = IntGaugeVec::new(
            Opts::new("db_pool_connections", "Database pool connections by state"),
            &["state"],
        )?;
        let pool_max_size = IntGauge::new("db_pool_max_size", "Database pool maximum size")?;
        let database_ready = IntGauge::new(
            "db_ready",
            "1 once the database is migrated and loaded with the reference data",
        )?;
        registry.register(Box::new(requests.clone()))?;
        registry.register(Box::new(duration.clone()))?;
        registry.register(Box::new(pool_connections.clone()))?;
        registry.register(Box::new(pool_max_size.clone()))?;
        let statements = IntCounter::new(
            "db_statements_total",
            "SQL statements sent to the database, transaction control included",
        )?;
        registry.register(Box::new(database_ready.clone()))?;
        registry.register(Box::new(statements.clone()))?;
        let replica = if replica {
            let metrics = PoolMetrics {
                connections: IntGaugeVec::new(
                    Opts::new(
                        "db_read_replica_pool_connections",
                        "Read replica pool connections by state",
                    ),
                    &["state"],
                )?,
                ready: IntGauge::new(
                    "db_read_replica_ready",
                    "1 once the read replica has every migration of this build",
                )?,
                statements: IntCounter::new(
                    "db_read_replica_statements_total",
                    "SQL statements sent to the read replica",
                )?,
            };
            registry.register(Box::new(metrics.connections.clone()))?;
            registry.register(Box::new(metrics.ready.clone()))?;
            registry.register(Box::new(metrics.statements.clone()))?;
            Some(metrics)
        } else {
            None
        };
        Ok(Metrics {
            registry,
            requests,
            duration,
            pool_connections,
            pool_max_size,
            database_ready,
            statements,
            replica,
            scrape: std::sync::Mutex::new(()),
        })
    }

    pub fn observe_request(&self, method: &str, route: &str, status: u16, elapsed: Duration) {
        let status = status.to_string();
        self.requests
            .with_label_values(&[method, route, status.as_str()])
            .inc();
        self.duration
            .with_label_values(&[method, route])
            .observe(elapsed.as_secs_f64());
    }

    /// The metrics in Prometheus' text exposition format; `replica` is the read replica's pool,
    /// when one is configured.
    pub fn render(
        &self,
        pool: &PoolSnapshot,
        replica: Option<&PoolSnapshot>,
    ) -> Result<String, prometheus::Error> {
        set_connections(&self.pool_connections, pool);
        self.pool_max_size.set(i64::from(pool.max_size));
        self.database_ready.set(i64::from(pool.ready));
        {
            let _one_at_a_time = self.scrape.lock().unwrap_or_else(|e| e.into_inner());
            self.statements
                .inc_by(pool.statements.saturating_sub(self.statements.get()));
            if let (Some(metrics), Some(snapshot)) = (&self.replica, replica) {
                metrics
                    .statements
                    .inc_by(snapshot.statements.saturating_sub(metrics.statements.get()));
            }
        }
        if let (Some(metrics), Some(snapshot)) = (&self.replica, replica) {
            set_connections(&metrics.connections, snapshot);
            metrics.ready.set(i64::from(snapshot.ready));
        }
        let mut buffer = Vec::new();
        TextEncoder::new().encode(&self.registry.gather(), &mut buffer)?;
        String::from_utf8(buffer).map_err(|e| prometheus::Error::Msg(e.to_string()))
    }
}

/// A pool's connections by state (`idle`, `in_use`).
fn set_connections(gauge: &IntGaugeVec, pool: &PoolSnapshot) {
    let in_use = pool.connections.saturating_sub(pool.idle);
    gauge.with_label_values(&["idle"]).set(i64::from(pool.idle));
    gauge.with_label_values(&["in_use"]).set(i64::from(in_use));
}
