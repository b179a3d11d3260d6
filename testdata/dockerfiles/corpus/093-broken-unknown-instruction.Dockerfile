FROM alpine:3.20
BOGUS x
