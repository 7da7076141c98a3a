#!/bin/sh
echo "worker starting" >&2
mkdir -p /app/state
exec "$@"
