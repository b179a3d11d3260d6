FROM alpine:3.20
ARG A=1 B C="3 4"
RUN echo $A $B $C
