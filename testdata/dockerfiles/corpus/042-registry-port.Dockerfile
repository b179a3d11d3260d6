FROM localhost:5000/team/app:1.2.3 AS a
FROM registry.example.com:443/base
COPY --from=a /x /x
