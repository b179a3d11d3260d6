FROM node:14-alpine AS builder-frontend
WORKDIR /node/src/app
COPY web .
RUN yarn install --frozen-lockfile && INLINE_RUNTIME_CHUNK=false yarn build

FROM golang:1.14.3-alpine AS builder-backend
ARG BUILD_TAG
ARG BUILD_COMMIT
RUN apk --no-cache add gcc musl-dev
WORKDIR /go/src/app
COPY go.mod go.sum ./
COPY --from=builder-frontend /node/src/app/build public_html
RUN go mod download
COPY cmd cmd
COPY internal internal
RUN sed -i 's/href="/href="{{.Base}}/g' public_html/index/html && \
go get -u aletheia.icu/broccoli && \
cd internal/server && \
go generate .
RUN cd cmd/authelia && \
GOOS=linux GOARCH=amd64 CGO_ENABLED=1 go build -tags netgo -ldflags '-w -linkmode external -extldflags -static' -trimpath -o authelia

FROM alpine:3.11.6
RUN apk --no-cache add ca-certificates tzdata
WORKDIR /usr/app
COPY --from=builder-backend /go/src/app/cmd/authelia/authelia ./
EXPOSE 9091
VOLUME /etc/authelia
VOLUME /var/lib/authelia
ENV PATH="/usr/app:${PATH}"
CMD ["./authelia", "--config", "/etc/authelia/configuration.yml"]
