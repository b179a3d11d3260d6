ARG TARGET_GOOS
ARG TARGET_GOARCH
FROM golang:1.27.1 AS builder
ENV GO111MODULE=on \
    CGO_ENABLED=0 \
    GOPROXY=https://athens.cfdata.org|https://proxy.golang.org|direct \
    TARGET_GOOS=${TARGET_GOOS} \
    TARGET_GOARCH=${TARGET_GOARCH} \
    # used to set the metrics runtime
    CONTAINER_BUILD=1

WORKDIR /go/src/github.com/cloudflare/cloudflared/

COPY go.mod go.sum ./
RUN go mod download

COPY . .

RUN make cloudflared

FROM alpine:3.24

LABEL org.opencontainers.image.source="https://github.com/cloudflare/cloudflared"

RUN apk add --no-cache ca-certificates && \
    addgroup -g 65532 nonroot && \
    adduser -D -H -u 65532 -G nonroot nonroot

COPY --from=builder --chown=65532:65532 /go/src/github.com/cloudflare/cloudflared/cloudflared /usr/local/bin/

ENV TUNNEL_METRICS=0.0.0.0:2000

HEALTHCHECK --interval=30s --timeout=5s --start-period=10s --retries=3 \
    CMD ["cloudflared", "tunnel", "--metrics", "127.0.0.1:2000", "ready"]

USER 65532:65532

ENTRYPOINT ["cloudflared", "--no-autoupdate"]
CMD ["version"]
