FROM alpine:3.20
LABEL description="héllo wörld ✓"
RUN echo "日本語"
