# syntax=docker/dockerfile:1
#
# One image, three binaries: api (default), worker, sentinelctl.
#   docker build -t audit-sentinel .
#   docker run --rm -p 8080:8080 audit-sentinel api -demo
#   docker run --rm audit-sentinel worker        # needs REDIS_URL etc.

FROM golang:1.26 AS build
WORKDIR /src
# Dependencies first, so source edits do not re-download modules.
COPY go.mod go.sum ./
RUN --mount=type=cache,target=/go/pkg/mod go mod download
COPY . .
RUN --mount=type=cache,target=/go/pkg/mod --mount=type=cache,target=/root/.cache/go-build \
    CGO_ENABLED=0 go build -trimpath -ldflags="-s -w" -o /out/ ./cmd/api ./cmd/worker ./cmd/sentinelctl

# Alpine rather than distroless: the compose healthcheck needs a wget.
FROM alpine:3.22
RUN apk add --no-cache ca-certificates tzdata \
 && addgroup -S -g 10001 sentinel \
 && adduser -S -D -H -u 10001 -G sentinel -h /var/lib/sentinel sentinel \
 && mkdir -p /var/lib/sentinel/data \
 && chown -R sentinel:sentinel /var/lib/sentinel
COPY --from=build /out/api /out/worker /out/sentinelctl /usr/local/bin/
USER 10001:10001
# The defaults (sqlite:./data/audit.db, file://./data/exports) land here.
WORKDIR /var/lib/sentinel
VOLUME ["/var/lib/sentinel/data"]
ENV HTTP_ADDR=:8080 \
    LOG_FORMAT=json
EXPOSE 8080
# No HEALTHCHECK here: the worker shares the image and serves no HTTP. The
# api's is in docker-compose.yml (wget -q -O /dev/null http://127.0.0.1:8080/readyz).
CMD ["api"]
