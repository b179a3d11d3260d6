from alpine:3.20
onbuild run echo hi
cmd ["true"]
