FROM golang:1.23.5 AS build
WORKDIR /src
COPY go.* ./
RUN go mod download
COPY . .
RUN CGO_ENABLED=0 go build -trimpath -ldflags=-s -o /ko-app/app ./cmd/app
FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /ko-app/app /ko-app/app
ENTRYPOINT ["/ko-app/app"]
