# Multi-stage build of the tlsrpt binary; the runtime image runs as a non-root user.
FROM rust:1.95-bookworm AS build
WORKDIR /src
COPY . .
RUN cargo build --release --locked -p tlsrpt && cp target/release/tlsrpt /tlsrpt

FROM debian:bookworm-slim
RUN apt-get update && apt-get install -y --no-install-recommends ca-certificates \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --system --uid 10001 --home-dir /var/lib/tlsrpt --create-home tlsrpt
COPY --from=build /tlsrpt /usr/local/bin/tlsrpt
USER tlsrpt
ENV TLSRPT_DATABASE_URL=/var/lib/tlsrpt/tlsrpt.db
VOLUME ["/var/lib/tlsrpt"]
ENTRYPOINT ["tlsrpt"]
CMD ["--help"]
