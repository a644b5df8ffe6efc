# syntax=docker/dockerfile:1
# newsmirror container image: built with the Rust toolchain, run on
# distroless (glibc, no shell, no package manager) as the non-root user
# 65532. The build steps live in deploy/docker-build-steps.sh, which CI also
# runs outside Docker (`deploy/docker-build-steps.sh check`).
#
#   docker build -t newsmirror .
#   docker run -p 8080:8080 \
#     -e NEWSMIRROR_SIGNING_KEY=$(openssl rand -hex 32) \
#     -e NEWSMIRROR_PURGE_TOKEN=$(openssl rand -hex 16) \
#     -v $PWD/mysite.toml:/etc/newsmirror/newsmirror.toml:ro newsmirror
#
# Configuration: /etc/newsmirror/newsmirror.toml (the example config is
# baked in; mount yours over it). Secrets: from the environment, through
# "env:NAME" values in the file. Ports: 8080 public; 9091 admin (metrics,
# readiness, purge): reachable inside the container network, never publish
# it to the internet. For [tls], mount the PEM files too; the certificate is
# reloaded on SIGHUP (`docker kill -s HUP <container>`).

FROM rust:1.95-bookworm AS build
WORKDIR /src
COPY . .
RUN --mount=type=cache,target=/usr/local/cargo/registry \
    --mount=type=cache,target=/src/target \
    deploy/docker-build-steps.sh build /out

FROM gcr.io/distroless/cc-debian12:nonroot
COPY --from=build /out/newsmirror /usr/local/bin/newsmirror
COPY config/newsmirror.toml /etc/newsmirror/newsmirror.toml
USER 65532:65532
ENV NEWSMIRROR_CONFIG=/etc/newsmirror/newsmirror.toml \
    NEWSMIRROR_LISTEN=0.0.0.0:8080 \
    NEWSMIRROR_ADMIN_LISTEN=0.0.0.0:9091
EXPOSE 8080 9091
# distroless has no curl: the binary checks itself (GET /_/healthz on the
# port of NEWSMIRROR_LISTEN; with [tls] use --url https://127.0.0.1:8080/_/healthz --insecure).
HEALTHCHECK --interval=30s --timeout=5s --start-period=5s --retries=3 \
  CMD ["/usr/local/bin/newsmirror", "healthcheck"]
ENTRYPOINT ["/usr/local/bin/newsmirror"]
CMD ["serve"]
