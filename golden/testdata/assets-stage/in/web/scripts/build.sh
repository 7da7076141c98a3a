#!/bin/sh
node_modules/.bin/esbuild src/index.js --bundle --outdir=dist
