ARG TARGET=server
ARG GOPROXY

FROM temporalio/base-builder:1.0.0 AS temporal-builder
ENV GOFLAGS="-mod=readonly"
WORKDIR /temporal
COPY go.mod ./
COPY go.sum ./
RUN go mod download
COPY . .
RUN CGO_ENABLED=0 make bins

FROM temporalio/base-server:1.0.0 AS temporal-server
ENV TEMPORAL_HOME /etc/temporal
RUN mkdir -p /etc/temporal
COPY --from=temporal-builder /temporal/tctl /usr/local/bin
COPY --from=temporal-builder /temporal/temporal-server /usr/local/bin
COPY --from=temporal-builder /temporal/schema /etc/temporal/schema
COPY docker/entrypoint.sh /entrypoint.sh
COPY docker/start.sh /start.sh
WORKDIR /etc/temporal
ENV SERVICES="history:matching:frontend:worker"
EXPOSE 6933 6934 6935 6939 7233 7234 7235 7239
ENTRYPOINT ["/entrypoint.sh"]
CMD /start.sh

FROM temporal-server AS temporal-auto-setup
CMD /start.sh autosetup

FROM temporalio/base-server:1.0.0 AS temporal-tctl
COPY --from=temporal-builder /temporal/tctl /usr/local/bin
ENTRYPOINT ["tctl"]

FROM temporalio/base-admin-tools:1.0.0 as temporal-admin-tools
ENV TEMPORAL_HOME /etc/temporal
RUN mkdir -p /etc/temporal
COPY --from=temporal-builder /temporal/tctl /usr/local/bin
COPY --from=temporal-builder /temporal/schema /etc/temporal/schema
WORKDIR /etc/temporal
ENTRYPOINT ["tail", "-f", "/dev/null"]

FROM temporal-${TARGET}
