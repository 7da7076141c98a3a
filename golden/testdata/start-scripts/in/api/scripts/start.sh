#!/bin/sh
set -e
mkdir -p /app/logs
exec node server.js >> /app/logs/server.log 2>&1
