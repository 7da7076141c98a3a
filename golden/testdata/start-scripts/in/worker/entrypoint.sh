#!/bin/sh
echo "worker starting" >&2
exec "$@"
