ARG GO_VERSION=1.23.5
ARG BASE=gcr.io/distroless/static-debian12:nonroot
FROM golang:${GO_VERSION}-alpine AS build
ARG GO_VERSION
RUN echo $GO_VERSION
FROM ${BASE}
COPY --from=build /etc/os-release /x
