FROM golang:1.23.5 AS tools
RUN go install github.com/go-delve/delve/cmd/dlv@latest
RUN go install honnef.co/go/tools/cmd/staticcheck@2024.1.1
