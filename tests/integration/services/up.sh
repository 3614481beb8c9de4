#!/bin/sh
# Stands in for `docker compose up -d api worker beat`: the "application"
# comes up by leaving the marker ($1) its health check looks for.
echo "starting api worker beat"
echo up > "$1"
