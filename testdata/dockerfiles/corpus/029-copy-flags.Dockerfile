FROM alpine:3.20 AS a
FROM alpine:3.20
COPY --from=a --chown=65532:65532 --chmod=0755 /etc/hosts /x
COPY --link --parents a/b c/d /dst/
ADD --checksum=sha256:0000000000000000000000000000000000000000000000000000000000000000 https://example.com/f /f
