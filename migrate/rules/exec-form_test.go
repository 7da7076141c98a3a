package rules

import (
	"testing"

	"github.com/composeopt/composeopt/migrate/facts"
)

func TestExecForm(t *testing.T) {
	withCommand := &facts.Build{Files: map[string]bool{}, Services: []facts.Service{{Name: "app", Command: []string{"x"}}}}
	runCases(t, ExecForm, []ruleCase{
		{name: "npm start", in: "FROM node:20\nCMD npm start\n", want: "FROM node:20\nCMD [\"npm\", \"start\"]\n"},
		{name: "lower case keyword kept", in: "from node:20\ncmd npm start\n", want: "from node:20\ncmd [\"npm\", \"start\"]\n"},
		{name: "variable keeps shell form", in: "FROM python:3.12\nCMD gunicorn -b 0.0.0.0:$PORT app:app\n"},
		{name: "and-chain keeps shell form", in: "FROM python:3.12\nCMD migrate && serve\n"},
		{name: "already exec", in: "FROM python:3.12\nCMD [\"python\", \"app.py\"]\n"},
		{name: "quoted words", in: "FROM python:3.12\nCMD python -c 'print(1)'\n", want: "FROM python:3.12\nCMD [\"python\", \"-c\", \"print(1)\"]\n"},
		{name: "entrypoint alone", in: "FROM alpine:3\nENTRYPOINT /app/run --serve\n", want: "FROM alpine:3\nENTRYPOINT [\"/app/run\", \"--serve\"]\n"},
		{name: "entrypoint with cmd kept", in: "FROM alpine:3\nENTRYPOINT /app/run\nCMD [\"--x\"]\n"},
		{name: "entrypoint with compose command kept", in: "FROM alpine:3\nENTRYPOINT /app/run\n", facts: withCommand},
		{name: "builtin kept", in: "FROM alpine:3\nCMD exec /app/run\n"},
	})
}
