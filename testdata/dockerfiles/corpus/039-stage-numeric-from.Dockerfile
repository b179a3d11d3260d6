FROM alpine:3.20
RUN echo a > /a
FROM scratch
COPY --from=0 /a /a
