FROM --platform=$BUILDPLATFORM golang:1.23.5-alpine AS build
ARG TARGETOS TARGETARCH
RUN GOOS=$TARGETOS GOARCH=$TARGETARCH go build -o /app .
FROM --platform=linux/amd64 scratch
COPY --from=build /app /app
