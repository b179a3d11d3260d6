from golang:1.23.5 as build
workdir /src
copy . .
run go build -o /app .
from scratch
copy --from=build /app /app
entrypoint ["/app"]
