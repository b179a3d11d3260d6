FROM alpine:3.20
RUN --mount=type=secret,id=token,env=TOKEN \
    --network=none \
    echo using secret
