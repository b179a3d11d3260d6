FROM golang:1.23.5 AS build
ENV CGO_ENABLED=0
RUN export GOFLAGS=-trimpath && go build -ldflags=-s -o /app .
