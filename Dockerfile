# newsmirror container image: build with the Rust toolchain, run on a slim
# base as a non-root user.
#
#   docker build -t newsmirror .
#   docker run -p 8080:8080 -e NEWSMIRROR_SIGNING_KEY=... \
#     -v $PWD/config/newsmirror.toml:/etc/newsmirror/newsmirror.toml:ro newsmirror

FROM rust:1-bookworm AS build
WORKDIR /src
COPY Cargo.toml Cargo.lock ./
COPY src src
COPY static static
COPY config config
COPY demo demo
RUN cargo build --release --locked && strip target/release/newsmirror

FROM debian:bookworm-slim
RUN apt-get update \
 && apt-get install -y --no-install-recommends curl \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --system --uid 10001 --home-dir /nonexistent --shell /usr/sbin/nologin newsmirror
COPY --from=build /src/target/release/newsmirror /usr/local/bin/newsmirror
COPY config/newsmirror.toml /etc/newsmirror/newsmirror.toml
USER 10001
ENV NEWSMIRROR_CONFIG=/etc/newsmirror/newsmirror.toml \
    NEWSMIRROR_LISTEN=0.0.0.0:8080
EXPOSE 8080 9091
HEALTHCHECK --interval=30s --timeout=3s --start-period=5s --retries=3 \
  CMD curl -fsS http://127.0.0.1:8080/_/healthz || exit 1
ENTRYPOINT ["newsmirror"]
CMD ["serve"]
