ARG TAG
FROM alpine:${TAG:-3.20}
RUN echo ok
