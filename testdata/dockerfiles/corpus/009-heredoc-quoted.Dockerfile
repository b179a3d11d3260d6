# syntax=docker/dockerfile:1
FROM alpine:3.20
RUN <<'EOT' sh
echo "$HOME"
EOT
CMD ["true"]
