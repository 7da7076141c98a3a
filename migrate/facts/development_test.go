package facts

import (
	"testing"

	"github.com/composeopt/composeopt/migrate/dockerfile"
)

func TestDevelopmentReason(t *testing.T) {
	for _, c := range []struct {
		name, src string
		svc       Service
		dev       bool
	}{
		{"plain", "FROM node:20\n", Service{Name: "web"}, false},
		{"dev stage name", "FROM node:20 AS dev\n", Service{Name: "web"}, true},
		{"dev target", "FROM node:20 AS base\nFROM base AS local\n", Service{Name: "web", Target: "local"}, true},
		{"NODE_ENV build arg", "FROM node:20\n", Service{Name: "web", Args: map[string]string{"NODE_ENV": "development"}}, true},
		{"NODE_ENV in the service environment", "FROM node:20\n", Service{Name: "web", Environment: map[string]string{"NODE_ENV": "development"}}, true},
		{"ENV in the chain", "FROM node:20 AS base\nENV NODE_ENV=development\nFROM base\n", Service{Name: "web"}, true},
		{"ARG default overridden by compose", "FROM python:3.11\nARG APP_ENV=development\n", Service{Name: "api", Args: map[string]string{"APP_ENV": "production"}}, false},
		{"ARG default kept", "FROM python:3.11\nARG APP_ENV=development\n", Service{Name: "api"}, true},
		{"production target", "FROM node:20 AS prod\n", Service{Name: "web", Target: "prod"}, false},
		{"suffix -dev", "FROM node:20 AS web-dev\n", Service{Name: "web"}, true},
	} {
		t.Run(c.name, func(t *testing.T) {
			f, err := dockerfile.Parse([]byte(c.src))
			if err != nil {
				t.Fatal(err)
			}
			b := &Build{Services: []Service{c.svc}}
			st := f.Target(c.svc.Target)
			if got := NewStages(b, f).Of(st).DevelopmentReason(); (got != "") != c.dev {
				t.Errorf("DevelopmentReason = %q, want dev=%v", got, c.dev)
			}
		})
	}
}
