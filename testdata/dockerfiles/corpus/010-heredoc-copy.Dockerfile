# syntax=docker/dockerfile:1
FROM scratch
COPY <<EOF /etc/passwd
nonroot:x:65532:65532::/home/nonroot:/sbin/nologin
EOF
USER 65532
