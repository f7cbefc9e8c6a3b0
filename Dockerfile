# Multi-stage build: compile with the Rust toolchain, run on a slim Debian with only the binary.
# SQLite and libpq are bundled in the binary; add `--build-arg FEATURES=pg-tls` for TLS to
# PostgreSQL (libpq with a vendored OpenSSL; a longer build).
FROM rust:1-bookworm AS builder
ARG FEATURES=""
WORKDIR /src
COPY Cargo.toml Cargo.lock ./
# The bundled SQLite's build flags (LIBSQLITE3_FLAGS).
COPY .cargo .cargo
COPY src src
COPY migrations migrations
COPY catalog catalog
RUN cargo build --release --locked ${FEATURES:+--features $FEATURES}

FROM debian:bookworm-slim
RUN apt-get update \
    && apt-get install -y --no-install-recommends ca-certificates curl \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --system --home /var/lib/redes --create-home redes
COPY --from=builder /src/target/release/redes /usr/local/bin/redes
USER redes
WORKDIR /var/lib/redes
# MALLOC_ARENA_MAX: glibc gives each busy thread its own malloc arena and keeps what they
# free; two arenas cut the resident memory under analytics pulls by 20-40 MB at the same
# throughput (docs/PERFORMANCE.md, Memory).
ENV REDES_BIND=0.0.0.0:8080 \
    REDES_DATA_DIR=/var/lib/redes/data \
    MALLOC_ARENA_MAX=2
EXPOSE 8080
HEALTHCHECK --interval=10s --timeout=3s --start-period=10s \
    CMD curl -fs http://127.0.0.1:8080/health/ready || exit 1
ENTRYPOINT ["redes"]
CMD ["serve"]
