FROM alpine:3.20
RUN addgroup -S app && adduser -S app -G app
COPY --chown=app:app . /app
USER app
