# syntax=docker/dockerfile:1
FROM alpine:3.20
RUN <<EOF cat > /etc/motd
welcome
EOF
RUN cat /etc/motd
