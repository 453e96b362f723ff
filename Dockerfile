# Sealpost in a container: a static binary (CGO_ENABLED=0: SQLite is the pure Go modernc
# driver) on distroless/static, which holds CA certificates, time zones and a non-root
# user and nothing else: no shell, no package manager.
#   docker build -t sealpost .
#   docker run --rm -v sealpost:/var/lib/sealpost sealpost masterkey init
#   docker run -d --name sealpost -v sealpost:/var/lib/sealpost -p 127.0.0.1:8080:8080 sealpost
# compose.yaml runs it with PostgreSQL; docs/deploy.md covers the rest.

# The Go release go.mod names (scripts/test-packaging.sh checks they agree).
ARG GO_VERSION=1.26.8

FROM golang:${GO_VERSION} AS build
WORKDIR /src
# Modules first, so a source change does not download them again.
COPY go.mod go.sum ./
RUN go mod download
COPY . .
ARG VERSION=dev
RUN CGO_ENABLED=0 go build -trimpath -ldflags "-s -w -X github.com/sealpost/sealpost/internal/cli.Version=${VERSION}" \
      -o /out/sealpost ./cmd/sealpost \
 && mkdir -p /out/data

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/sealpost /usr/local/bin/sealpost
# The data directory belongs to the image's non-root user (65532), so a new named volume
# mounted there starts out writable by it.
COPY --from=build --chown=65532:65532 /out/data /var/lib/sealpost
ENV SEALPOST_DATA_DIR=/var/lib/sealpost \
    SEALPOST_API_LISTEN=0.0.0.0:8080
USER 65532:65532
VOLUME ["/var/lib/sealpost"]
EXPOSE 8080
ENTRYPOINT ["/usr/local/bin/sealpost"]
CMD ["serve"]
