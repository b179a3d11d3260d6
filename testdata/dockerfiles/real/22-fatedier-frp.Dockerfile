FROM alpine:3.12.0

RUN apk add --update ca-certificates

ADD bin/frps /usr/bin

RUN chmod -R 777 /usr/bin/frps

ENTRYPOINT ["/usr/bin/frps"]
