

# leading comment

FROM alpine:3.20

# middle

RUN true


# trailing
