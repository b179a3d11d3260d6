FROM alpine:3.20
LABEL a=1 b="two words" \
      c=3
LABEL "quoted key"=v
