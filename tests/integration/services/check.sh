#!/bin/sh
# Stands in for `curl -fsS http://127.0.0.1:8080/health`: healthy once the
# stand-in application is up.
if [ -f "$1" ]; then echo "health: 200 ok"; exit 0; fi
echo "health: 503 not ready"; exit 1
