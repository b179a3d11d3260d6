FROM golang:1.23.5 AS build
RUN CGO_ENABLED=0 go build -ldflags '-linkmode external -extldflags "-static"' -o /app .
FROM scratch
COPY --from=build /app /app
