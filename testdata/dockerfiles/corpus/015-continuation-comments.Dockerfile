FROM alpine:3.20
RUN apk add --no-cache \
# a comment inside
    curl \
    # indented comment
    git
CMD ["sh"]
