FROM alpine:3.20
ENV A=1 B=2
ENV LEGACY value with spaces
ENV C="x y" \
    D=4
