FROM golang:1.23.5 AS base
WORKDIR /src
FROM base AS build
RUN go build -o /app .
FROM base AS test
RUN go test ./...
