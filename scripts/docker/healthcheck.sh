#!/bin/bash
# The image's HEALTHCHECK: ready means GET /readyz on the admin port answers
# 200 (503 while starting or draining). bash's /dev/tcp, not a node process:
# a probe every 2 s costs ~2 ms of CPU instead of ~50 ms, and the image needs
# no curl. The port: the first argument, else ADMIN_PORT (the image sets the
# app's default). Exit 0 healthy, 1 not.
port=${1:-${ADMIN_PORT:?}}
exec 3<>"/dev/tcp/127.0.0.1/$port" 2>/dev/null || { echo "readyz on 127.0.0.1:$port: not listening" >&2; exit 1; }
printf 'GET /readyz HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n' >&3
IFS= read -r -t 3 status <&3 || { echo "readyz on 127.0.0.1:$port: no answer" >&2; exit 1; }
case $status in
  'HTTP/1.1 200 '*) exit 0 ;;
  *) echo "readyz on 127.0.0.1:$port: ${status%$'\r'}" >&2; exit 1 ;;
esac
