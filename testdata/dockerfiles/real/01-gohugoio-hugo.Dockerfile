FROM golang:1.6.2
MAINTAINER Sven Dowideit <SvenDowideit@home.org.au>

ENV GOPATH /go
ENV USER root

RUN go get github.com/stretchr/testify/assert \
	&& go get github.com/kyokomi/emoji \
	&& go get github.com/spf13/cobra \
	&& go get github.com/spf13/viper \
	&& go get github.com/fsnotify/fsnotify

COPY . /go/src/github.com/spf13/hugo
RUN go get -d -v github.com/spf13/hugo
RUN go install github.com/spf13/hugo

WORKDIR /go/src/github.com/spf13/hugo
RUN go get -d -v
RUN go build -o hugo main.go
RUN go test github.com/spf13/hugo/...
