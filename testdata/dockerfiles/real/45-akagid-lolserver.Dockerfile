FROM golang:latest

WORKDIR /app

RUN go install github.com/cosmtrek/air@latest
RUN go install -v github.com/go-delve/delve/cmd/dlv@latest
