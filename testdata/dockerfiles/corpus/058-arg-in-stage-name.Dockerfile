ARG VARIANT=alpine
FROM golang:1.23.5-${VARIANT} AS build-${VARIANT}
RUN true
