FROM alpine:3.20 AS s0
RUN echo 0 > /f0
FROM alpine:3.20 AS s1
RUN echo 1 > /f1
FROM alpine:3.20 AS s2
RUN echo 2 > /f2
FROM alpine:3.20 AS s3
RUN echo 3 > /f3
FROM alpine:3.20 AS s4
RUN echo 4 > /f4
FROM alpine:3.20 AS s5
RUN echo 5 > /f5
FROM alpine:3.20 AS s6
RUN echo 6 > /f6
FROM alpine:3.20 AS s7
RUN echo 7 > /f7
FROM scratch
COPY --from=s0 /f0 /
COPY --from=s1 /f1 /
COPY --from=s2 /f2 /
COPY --from=s3 /f3 /
COPY --from=s4 /f4 /
COPY --from=s5 /f5 /
COPY --from=s6 /f6 /
COPY --from=s7 /f7 /
