FROM golang:1.23.5 AS build
RUN --mount=type=cache,target=/go/pkg/mod \
    --mount=type=cache,target=/root/.cache/go-build \
    --mount=type=bind,target=. \
    go build -o /app .
FROM scratch
COPY --from=build /app /app
