ARG BASE

FROM ${BASE}

LABEL org.opencontainers.image.source="https://github.com/open-policy-agent/opa"

ARG USER=1000:1000
USER ${USER}

ARG TARGETOS
ARG TARGETARCH
ARG BIN_DIR=.
ARG BIN_SUFFIX=
COPY ${BIN_DIR}/opa_${TARGETOS}_${TARGETARCH}${BIN_SUFFIX} /opa
ENV PATH=${PATH}:/

ENTRYPOINT ["/opa"]
CMD ["run"]
