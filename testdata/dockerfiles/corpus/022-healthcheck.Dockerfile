FROM alpine:3.20
HEALTHCHECK --interval=30s --timeout=3s CMD wget -q -O- http://localhost:8080/health || exit 1
HEALTHCHECK NONE
CMD ["true"]
