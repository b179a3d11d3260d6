FROM golang:1.24.10-alpine3.22 AS build-env

ARG GITEA_VERSION="release/v1.12"
ARG TAGS="sqlite sqlite_unlock_notify"
ENV TAGS "bindata $TAGS"
ENV NODE_OPTIONS "--openssl-legacy-provider"

RUN apk update && \
    apk upgrade
RUN apk --no-cache add build-base git nodejs npm
RUN apk --no-cache add sqlite>3.38

COPY . ${GOPATH}/src/code.gitea.io/gitea
WORKDIR ${GOPATH}/src/code.gitea.io/gitea

RUN if [ -n "${GITEA_VERSION}" ]; then git checkout "${GITEA_VERSION}"; fi \
 && make clean-all build

FROM alpine:3.22
LABEL maintainer="maintainers@gitea.io"

EXPOSE 22 3000

RUN apk --no-cache add bash
RUN apk --no-cache add ca-certificates
RUN apk --no-cache add git
RUN apk --no-cache add openssh
RUN apk --no-cache add s6
RUN apk --no-cache add su-exec
RUN apk --no-cache add tzdata

RUN apk update && \
    apk upgrade

RUN addgroup \
    -S -g 1000 \
    git && \
  adduser \
    -S -H -D \
    -h /data/git \
    -s /bin/bash \
    -u 1000 \
    -G git \
    git && \
  echo "git:$(dd if=/dev/urandom bs=24 count=1 status=none | base64)" | chpasswd

ENV USER git
ENV GITEA_CUSTOM /data/gitea

VOLUME ["/data"]

ENTRYPOINT ["/usr/bin/entrypoint"]
CMD ["/bin/s6-svscan", "/etc/s6"]

COPY --from=build-env /go/src/code.gitea.io/gitea/gitea /app/gitea/gitea
RUN ln -s /app/gitea/gitea /usr/local/bin/gitea
