FROM alpine:3.20
RUN ["/bin/sh", "-c", "cd /tmp && echo a | cat"]
