#!/bin/sh
# Started by the image's CMD; COPY --chmod made it executable.
exec python /app/server.py
