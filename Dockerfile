# syntax=docker/dockerfile:1
#
# practica: one image for `serve`, `worker`, `migrate`, `token`, `api-key`, `import`…
#
#   docker build -t practica .                          # default features
#   docker build -t practica --build-arg FEATURES=sqs . # with the SQS FIFO event sink
#   docker run --rm -p 8080:8080 -v practica-data:/var/lib/practica practica
#
# Needs BuildKit (the default builder of current Docker) for the cache mounts: the cargo
# registry and the target dir are kept between builds, so a change to the sources rebuilds
# practica's crates, not its ~400 dependencies. See docs/operations.md.
#
# Not built or run on the machine where it was written (no Docker engine there); see
# docs/operations.md, "Container image", for what was checked instead.

# The builder and the runtime must be the same Debian release: the binary links that
# release's glibc (the C parts — SQLite, mimalloc, ring — are compiled in statically; TLS is
# rustls, so there is no OpenSSL).
ARG RUST_VERSION=1.95
ARG DEBIAN_RELEASE=bookworm

FROM rust:${RUST_VERSION}-slim-${DEBIAN_RELEASE} AS build
# Cargo features of the practica crate, space- or comma-separated (e.g. `sqs`).
ARG FEATURES=""
WORKDIR /src
COPY . .
# The cache mounts are not part of the image, so the binary is copied out of the target dir
# in the same step.
RUN --mount=type=cache,target=/usr/local/cargo/registry,sharing=locked \
    --mount=type=cache,target=/usr/local/cargo/git,sharing=locked \
    --mount=type=cache,target=/src/target,sharing=locked \
    cargo build --release --locked -p practica --bin practica ${FEATURES:+--features "$FEATURES"} \
    && install -D -m 0755 target/release/practica /out/practica

FROM debian:${DEBIAN_RELEASE}-slim AS runtime
# ca-certificates: the trust roots rustls verifies https against (LLM providers, a JWKS, S3,
# SQS); curl: the HEALTHCHECK below; sqlite3: online backups of the embedded database
# (`sqlite3 … ".backup …"`, docs/operations.md).
# hadolint ignore=DL3008
RUN apt-get update \
    && apt-get install -y --no-install-recommends ca-certificates curl sqlite3 \
    && rm -rf /var/lib/apt/lists/* \
    && groupadd --system --gid 10001 practica \
    && useradd --system --uid 10001 --gid 10001 --home-dir /var/lib/practica --no-create-home \
        --shell /usr/sbin/nologin practica \
    && install -d -m 0700 -o 10001 -g 10001 /var/lib/practica
COPY --from=build /out/practica /usr/local/bin/practica

# The data dir holds the embedded SQLite database, the JWT signing secret (`jwt-secret`),
# local uploads and an optional practica.toml; with PostgreSQL and S3 it still holds the
# secret. The service listens on all interfaces inside the container (its own default is
# 127.0.0.1:8080).
ENV PRACTICA_DATA_DIR=/var/lib/practica \
    PRACTICA_ADDR=0.0.0.0:8080
VOLUME ["/var/lib/practica"]
WORKDIR /var/lib/practica
USER 10001:10001
EXPOSE 8080

# Liveness on the port PRACTICA_ADDR names: `serve`, or `worker --addr 0.0.0.0:8080` (its
# health and metrics port). A one-shot command, or a worker without --addr, should run with the
# health check disabled (compose: `healthcheck: disable: true`; `docker run --no-healthcheck`).
HEALTHCHECK --interval=10s --timeout=3s --start-period=30s --retries=3 \
    CMD ["sh", "-c", "curl -fsS -o /dev/null \"http://127.0.0.1:${PRACTICA_ADDR##*:}/healthz\" || exit 1"]

# SIGTERM (docker stop) shuts down gracefully: no new requests, in-flight ones and running
# jobs finish (jobs get up to 20 s), the outbox is drained. Allow ~30 s before a SIGKILL.
STOPSIGNAL SIGTERM
ENTRYPOINT ["practica"]
CMD ["serve"]
