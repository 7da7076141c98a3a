package rules

import (
	"testing"

	"github.com/composeopt/composeopt/migrate/dockerfile"
	"github.com/composeopt/composeopt/migrate/facts"
)

func TestDevReason(t *testing.T) {
	for _, c := range []struct {
		name, src string
		svc       facts.Service
		dev       bool
	}{
		{"plain", "FROM node:20\n", facts.Service{Name: "web"}, false},
		{"dev stage name", "FROM node:20 AS dev\n", facts.Service{Name: "web"}, true},
		{"dev target", "FROM node:20 AS base\nFROM base AS local\n", facts.Service{Name: "web", Target: "local"}, true},
		{"NODE_ENV build arg", "FROM node:20\n", facts.Service{Name: "web", Args: map[string]string{"NODE_ENV": "development"}}, true},
		{"ENV in the chain", "FROM node:20 AS base\nENV NODE_ENV=development\nFROM base\n", facts.Service{Name: "web"}, true},
		{"ARG default overridden by compose", "FROM python:3.11\nARG APP_ENV=development\n", facts.Service{Name: "api", Args: map[string]string{"APP_ENV": "production"}}, false},
		{"ARG default kept", "FROM python:3.11\nARG APP_ENV=development\n", facts.Service{Name: "api"}, true},
		{"production target", "FROM node:20 AS prod\n", facts.Service{Name: "web", Target: "prod"}, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			f, err := dockerfile.Parse([]byte(c.src))
			if err != nil {
				t.Fatal(err)
			}
			p := &Pass{File: f, Facts: &facts.Build{Services: []facts.Service{c.svc}}}
			st := f.Target(c.svc.Target)
			if got := devReason(p, st); (got != "") != c.dev {
				t.Errorf("devReason = %q, want dev=%v", got, c.dev)
			}
		})
	}
}
