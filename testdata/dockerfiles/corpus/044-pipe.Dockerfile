FROM alpine:3.20
RUN wget -O - https://example.com/install.sh | sh
