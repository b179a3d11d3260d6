FROM alpine:3.20
CMD ["a"]
CMD ["b"]
ENTRYPOINT ["x"]
ENTRYPOINT y
