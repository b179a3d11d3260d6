FROM scratch
COPY whoami /
ENTRYPOINT ["/whoami"]
EXPOSE 80
