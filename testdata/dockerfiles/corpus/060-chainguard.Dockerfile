FROM cgr.dev/chainguard/go:latest AS build
RUN go build -o /app .
FROM cgr.dev/chainguard/static:latest
COPY --from=build /app /app
