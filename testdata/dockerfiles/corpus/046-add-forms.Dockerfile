FROM alpine:3.20
ADD app.tar.gz /opt/
ADD https://example.com/a.txt /a.txt
ADD local.txt /local.txt
ADD git@github.com:moby/buildkit.git /bk
