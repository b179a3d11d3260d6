# syntax=docker/dockerfile:1
FROM alpine:3.20
COPY <<A <<B /dst/
first
A
second
B
RUN true
