package rules

import (
	"testing"

	"github.com/composeopt/composeopt/migrate/facts"
)

func TestPythonEnv(t *testing.T) {
	py := factsWith([]string{"requirements.txt"})
	runCases(t, PythonEnv, []ruleCase{
		{
			name: "alpine, after FROM and ARG",
			in:   "FROM python:3.11-alpine\nARG APP_VERSION=1.0\nWORKDIR /app\nRUN pip install -r requirements.txt\nCMD [\"python\", \"-m\", \"app\"]\n",
			want: "FROM python:3.11-alpine\nARG APP_VERSION=1.0\nENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1\nWORKDIR /app\nRUN pip install -r requirements.txt\nCMD [\"python\", \"-m\", \"app\"]\n",
		},
		{
			name: "debian, one already set",
			in:   "FROM python:3.12-slim-bookworm\nENV PYTHONUNBUFFERED=1\nRUN pip install flask\n",
			want: "FROM python:3.12-slim-bookworm\nENV PYTHONDONTWRITEBYTECODE=1\nENV PYTHONUNBUFFERED=1\nRUN pip install flask\n",
		},
		{
			name: "already done",
			in:   "FROM python:3.12\nENV PYTHONDONTWRITEBYTECODE=1 \\\n    PYTHONUNBUFFERED=1\nCMD [\"python\"]\n",
		},
		{
			name: "set by ARG",
			in:   "FROM python:3.12\nARG PYTHONUNBUFFERED\nENV PYTHONDONTWRITEBYTECODE=1\n",
		},
		{
			name: "legacy ENV form counts",
			in:   "FROM python:3.12\nENV PYTHONDONTWRITEBYTECODE 1\nENV PYTHONUNBUFFERED 1\n",
		},
		{
			name: "inherited from an earlier stage",
			in:   "FROM python:3.12-slim AS base\nENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1\nFROM base AS app\nCMD [\"python\"]\n",
		},
		{
			name: "runtime stage only",
			in:   "FROM python:3.12 AS build\nRUN pip wheel -w /w -r requirements.txt\nFROM python:3.12-slim\nCOPY --from=build /w /w\nRUN pip install /w/*\n",
			want: "FROM python:3.12 AS build\nRUN pip wheel -w /w -r requirements.txt\nFROM python:3.12-slim\nENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1\nCOPY --from=build /w /w\nRUN pip install /w/*\n",
		},
		{
			name: "distroless python",
			in:   "FROM python:3.12-slim AS build\nRUN pip install --target /deps flask\nFROM gcr.io/distroless/python3-debian12\nCOPY --from=build /deps /deps\nCMD [\"app.py\"]\n",
			want: "FROM python:3.12-slim AS build\nRUN pip install --target /deps flask\nFROM gcr.io/distroless/python3-debian12\nENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1\nCOPY --from=build /deps /deps\nCMD [\"app.py\"]\n",
		},
		{
			name:  "python installed in a python project",
			in:    "FROM debian:bookworm-slim\nRUN apt-get update && apt-get install -y python3 python3-pip\nCOPY . /app\n",
			want:  "FROM debian:bookworm-slim\nENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1\nRUN apt-get update && apt-get install -y python3 python3-pip\nCOPY . /app\n",
			facts: py,
		},
		{
			name:  "python installed for node-gyp in a node project",
			in:    "FROM node:20-alpine\nRUN apk add --no-cache python3 make g++\n",
			facts: factsWith([]string{"package.json"}),
		},
		{
			name: "scratch",
			in:   "FROM scratch\nCOPY app /app\n",
		},
		{
			name:  "dev target",
			in:    "FROM python:3.12 AS dev\nCMD [\"flask\", \"run\"]\nFROM python:3.12-slim AS prod\nCMD [\"gunicorn\", \"app:app\"]\n",
			want:  "FROM python:3.12 AS dev\nCMD [\"flask\", \"run\"]\nFROM python:3.12-slim AS prod\nENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1\nCMD [\"gunicorn\", \"app:app\"]\n",
			facts: factsWith(nil, facts.Service{Name: "web-dev", Target: "dev"}, facts.Service{Name: "web", Target: "prod"}),
		},
		{
			name: "lower case",
			in:   "from python:3.12-alpine\nrun pip install flask\n",
			want: "from python:3.12-alpine\nenv PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1\nrun pip install flask\n",
		},
		{
			name: "crlf and escape directive",
			in:   "# escape=`\r\nFROM python:3.12-windowsservercore-ltsc2022 AS win\r\nFROM python:3.12-alpine\r\nRUN pip install `\r\n    flask\r\n",
			want: "# escape=`\r\nFROM python:3.12-windowsservercore-ltsc2022 AS win\r\nFROM python:3.12-alpine\r\nENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1\r\nRUN pip install `\r\n    flask\r\n",
		},
		{
			name: "comment stays with its instruction",
			in:   "FROM python:3.12-alpine\n# dependencies\nRUN pip install flask\n",
			want: "FROM python:3.12-alpine\nENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1\n# dependencies\nRUN pip install flask\n",
		},
	})
}

func TestPythonEnvLint(t *testing.T) {
	applyGated(t, []*Rule{PythonEnv}, "FROM python:3.11-alpine\nARG APP_ENV=development\nWORKDIR /app\nCOPY . .\nRUN pip install -r requirements.txt\nENV FLASK_ENV=$APP_ENV\nEXPOSE 5000\nCMD [\"python\", \"-m\", \"backend.app\"]\n", factsWith(nil))
}
