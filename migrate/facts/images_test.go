package facts

import (
	"slices"
	"testing"
)

func TestImageTable(t *testing.T) {
	type want struct {
		family  Family
		os      string
		pkg     string
		appUser string
		user    string
		tools   []string // must be present
		absent  []string // must not be present
		ports   []int
	}
	cases := map[string]want{
		"node:20":                                     {Debian, "debian", "apt", "node", "", []string{"node", "curl", "wget"}, nil, nil},
		"node:20-bookworm-slim":                       {Debian, "debian", "apt", "node", "", []string{"node"}, []string{"curl", "wget"}, nil},
		"node:18-alpine":                              {Alpine, "alpine", "apk", "node", "", []string{"node", "wget"}, []string{"curl"}, nil},
		"node:22-bookworm":                            {Debian, "debian", "apt", "node", "", []string{"node", "curl"}, nil, nil},
		"python:3.12-slim":                            {Debian, "debian", "apt", "", "", []string{"python3"}, []string{"curl", "wget"}, nil},
		"python:3.11-alpine":                          {Alpine, "alpine", "apk", "", "", []string{"python3", "wget"}, []string{"curl"}, nil},
		"python:3.11-bookworm":                        {Debian, "debian", "apt", "", "", []string{"python3", "curl"}, nil, nil},
		"docker.io/library/python:3":                  {Debian, "debian", "apt", "", "", []string{"python3", "curl"}, nil, nil},
		"golang:1.22":                                 {Debian, "debian", "apt", "", "", []string{"curl"}, nil, nil},
		"golang:1.22-alpine":                          {Alpine, "alpine", "apk", "", "", nil, nil, nil},
		"openjdk:11":                                  {Debian, "debian", "apt", "", "", []string{"java"}, nil, nil},
		"openjdk:17":                                  {RHEL, "oraclelinux", "microdnf", "", "", []string{"java"}, nil, nil},
		"openjdk:17-jdk-slim":                         {Debian, "debian", "apt", "", "", []string{"java"}, nil, nil},
		"eclipse-temurin:21-jre":                      {Debian, "ubuntu", "apt", "", "", []string{"java"}, nil, nil},
		"eclipse-temurin:17-jre-alpine":               {Alpine, "alpine", "apk", "", "", []string{"java"}, nil, nil},
		"eclipse-temurin:21-jre-ubi9-minimal":         {RHEL, "ubi-minimal", "microdnf", "", "", nil, nil, nil},
		"amazoncorretto:17":                           {RHEL, "amazonlinux", "yum", "", "", []string{"java"}, nil, nil},
		"amazoncorretto:21-al2023-headless":           {RHEL, "amazonlinux", "dnf", "", "", nil, nil, nil},
		"amazoncorretto:21-alpine":                    {Alpine, "alpine", "apk", "", "", nil, nil, nil},
		"maven:3.9-eclipse-temurin-17":                {Debian, "ubuntu", "apt", "", "", []string{"mvn"}, nil, nil},
		"maven:3.9-eclipse-temurin-17-alpine":         {Alpine, "alpine", "apk", "", "", nil, nil, nil},
		"maven:3-amazoncorretto-21-al2023":            {RHEL, "amazonlinux", "dnf", "", "", nil, nil, nil},
		"maven:3.8-openjdk-17":                        {RHEL, "oraclelinux", "microdnf", "", "", nil, nil, nil},
		"gradle:8-jdk17":                              {Debian, "ubuntu", "apt", "gradle", "", []string{"gradle"}, nil, nil},
		"gradle:8-jdk17-alpine":                       {Alpine, "alpine", "apk", "gradle", "", nil, nil, nil},
		"mcr.microsoft.com/dotnet/sdk:8.0":            {Debian, "debian", "apt", "app", "", nil, nil, []int{8080}},
		"mcr.microsoft.com/dotnet/aspnet:8.0":         {Debian, "debian", "apt", "app", "", nil, nil, []int{8080}},
		"mcr.microsoft.com/dotnet/aspnet:6.0":         {Debian, "debian", "apt", "", "", nil, nil, []int{80}},
		"mcr.microsoft.com/dotnet/runtime:8.0-alpine": {Alpine, "alpine", "apk", "app", "", nil, nil, []int{8080}},
		"mcr.microsoft.com/dotnet/runtime-deps:8.0-jammy-chiseled": {Distroless, "ubuntu-chiseled", "", "app", "app", nil, nil, []int{8080}},
		"mcr.microsoft.com/dotnet/aspnet:9.0-noble":                {Debian, "ubuntu", "apt", "app", "", nil, nil, []int{8080}},
		"mcr.microsoft.com/dotnet/aspnet:8.0-nanoserver-ltsc2022":  {Windows, "windows", "", "", "", nil, nil, nil},
		"php:8.2-cli":                      {Debian, "debian", "apt", "", "", []string{"php", "curl"}, nil, nil},
		"php:8.2-fpm":                      {Debian, "debian", "apt", "", "", []string{"php"}, nil, []int{9000}},
		"php:8.2-apache":                   {Debian, "debian", "apt", "", "", []string{"php"}, nil, []int{80}},
		"php:8.3-fpm-alpine":               {Alpine, "alpine", "apk", "", "", []string{"php", "curl"}, nil, []int{9000}},
		"ruby:3.3":                         {Debian, "debian", "apt", "", "", []string{"ruby", "curl"}, nil, nil},
		"ruby:3.3-slim":                    {Debian, "debian", "apt", "", "", []string{"ruby"}, []string{"curl"}, nil},
		"rust:1.79":                        {Debian, "debian", "apt", "", "", nil, nil, nil},
		"rust:1.79-alpine":                 {Alpine, "alpine", "apk", "", "", nil, nil, nil},
		"nginx":                            {Debian, "debian", "apt", "nginx", "", []string{"curl"}, nil, []int{80}},
		"nginx:1.27-alpine":                {Alpine, "alpine", "apk", "nginx", "", []string{"wget"}, nil, []int{80}},
		"nginxinc/nginx-unprivileged:1.27": {Debian, "debian", "apt", "nginx", "101", nil, nil, []int{8080}},
		"httpd:2.4":                        {Debian, "debian", "apt", "", "", nil, nil, []int{80}},
		"alpine:3.20":                      {Alpine, "alpine", "apk", "", "", []string{"wget"}, []string{"curl"}, nil},
		"debian:bookworm-slim":             {Debian, "debian", "apt", "", "", nil, []string{"curl", "wget"}, nil},
		"ubuntu:24.04":                     {Debian, "ubuntu", "apt", "", "", nil, []string{"curl"}, nil},
		"registry.access.redhat.com/ubi9/ubi:9.4":          {RHEL, "ubi", "dnf", "", "", []string{"curl"}, nil, nil},
		"registry.access.redhat.com/ubi9/ubi-minimal":      {RHEL, "ubi-minimal", "microdnf", "", "", nil, nil, nil},
		"registry.access.redhat.com/ubi8/ubi-minimal:8.10": {RHEL, "ubi-minimal", "microdnf", "", "", nil, nil, nil},
		"gcr.io/distroless/static-debian12":                {Distroless, "distroless", "", "", "", nil, nil, nil},
		"gcr.io/distroless/static-debian12:nonroot":        {Distroless, "distroless", "", "nonroot", "65532", nil, nil, nil},
		"gcr.io/distroless/python3-debian12":               {Distroless, "distroless", "", "", "", []string{"python3"}, nil, nil},
		"gcr.io/distroless/nodejs20-debian12:debug":        {Distroless, "distroless", "", "", "", []string{"node", "wget"}, nil, nil},
		"cgr.dev/chainguard/static":                        {Distroless, "distroless", "", "nonroot", "65532", nil, nil, nil},
		"cgr.dev/chainguard/python:latest-dev":             {Alpine, "wolfi", "apk", "nonroot", "65532", nil, nil, nil},
		"cgr.dev/chainguard/wolfi-base":                    {Alpine, "wolfi", "apk", "", "", nil, nil, nil},
		"tiangolo/uvicorn-gunicorn-fastapi:python3.11":     {Debian, "debian", "apt", "", "", []string{"python3"}, nil, []int{80}},
		"tiangolo/uvicorn-gunicorn:python3.11-slim":        {Debian, "debian", "apt", "", "", []string{"python3"}, []string{"curl"}, []int{80}},
		"registry.example.com/mirror/node:20":              {Debian, "debian", "apt", "node", "", []string{"node"}, nil, nil},
		"example.com/team/app:1.0-bookworm":                {Debian, "debian", "apt", "", "", nil, nil, nil},
		"scratch":                                          {Scratch, "scratch", "", "", "", nil, nil, nil},
	}
	for ref, w := range cases {
		f := LookupImage(ref)
		if f.Family != w.family || f.OS != w.os || f.PkgManager != w.pkg || f.AppUser != w.appUser || f.DefaultUser != w.user {
			t.Errorf("%s: family %s os %q pkg %q app user %q user %q, want %s %q %q %q %q (row %s)", ref, f.Family, f.OS, f.PkgManager,
				f.AppUser, f.DefaultUser, w.family, w.os, w.pkg, w.appUser, w.user, f.Source)
		}
		if !f.Known {
			t.Errorf("%s: not known", ref)
		}
		for _, tool := range w.tools {
			if !f.HasTool(tool) {
				t.Errorf("%s: tools %v lack %s", ref, f.Tools, tool)
			}
		}
		for _, tool := range w.absent {
			if f.HasTool(tool) {
				t.Errorf("%s: tools %v list %s, which the image does not ship", ref, f.Tools, tool)
			}
		}
		if !slices.Equal(f.Ports, w.ports) {
			t.Errorf("%s: ports %v, want %v", ref, f.Ports, w.ports)
		}
		if w.appUser != "" {
			if _, ok := f.Account(w.appUser); !ok {
				t.Errorf("%s: app user %s is not among its accounts %v", ref, w.appUser, f.Accounts)
			}
		}
	}
	for _, ref := range []string{"example.com/team/app:1.0", "myapp", "${BASE}"} {
		if f := LookupImage(ref); f.Known || f.Family != Unknown {
			t.Errorf("%s: %+v, want unknown", ref, f)
		}
	}
}

// TestImageTableCoverage keeps "OS unknown" rare: every image name in the
// table resolves to a known family with its default tag.
func TestImageTableCoverage(t *testing.T) {
	for _, row := range imageTable {
		for _, n := range row.names {
			if f := LookupImage(n); !f.Known && n != "busybox" {
				t.Errorf("%s: unknown", n)
			}
		}
	}
}
