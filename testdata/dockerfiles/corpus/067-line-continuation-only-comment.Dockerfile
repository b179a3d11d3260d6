FROM alpine:3.20
RUN echo start \
  # only a comment
  && echo end
