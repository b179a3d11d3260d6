FROM alpine:3.20
RUN ["echo", "hello world"]
CMD ["sh", "-c", "echo $HOME"]
ENTRYPOINT ["/bin/sh"]
VOLUME ["/data", "/logs"]
