FROM golang:1.23.5
ONBUILD COPY . /src
ONBUILD RUN go build -o /app /src
CMD ["/app"]
