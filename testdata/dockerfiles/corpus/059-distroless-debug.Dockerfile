FROM gcr.io/distroless/static-debian12:debug-nonroot
ENTRYPOINT /busybox/sh -c 'echo hi'
