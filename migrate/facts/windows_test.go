package facts

import (
	"testing"

	"github.com/composeopt/composeopt/migrate/dockerfile"
)

func TestIsWindowsImage(t *testing.T) {
	for ref, want := range map[string]bool{
		"mcr.microsoft.com/windows/servercore:ltsc2022":        true,
		"mcr.microsoft.com/windows/nanoserver:1809":            true,
		"mcr.microsoft.com/dotnet/framework/sdk:4.8":           true,
		"mcr.microsoft.com/dotnet/framework/aspnet:4.8.1":      true,
		"python:3.12-windowsservercore-ltsc2022":               true,
		"golang:1.22-nanoserver-ltsc2022":                      true,
		"mcr.microsoft.com/powershell:lts-nanoserver-1809":     true,
		"mcr.microsoft.com/dotnet/aspnet:8.0":                  false, // Linux by default
		"mcr.microsoft.com/dotnet/sdk:8.0-bookworm-slim":       false,
		"python:3.12-slim":                                     false,
		"node:20-alpine":                                       false,
		"scratch":                                              false,
		"ghcr.io/acme/api@sha256:0123456789abcdef0123456789ab": false,
	} {
		if got := IsWindowsImage(ref); got != want {
			t.Errorf("IsWindowsImage(%q) = %v, want %v", ref, got, want)
		}
	}
}

func TestWindowsReason(t *testing.T) {
	for src, want := range map[string]bool{
		"FROM --platform=windows/amd64 python:3.12\n":                                 true,
		"ARG P=windows/amd64\nFROM --platform=$P python:3.12\n":                       true,
		"FROM mcr.microsoft.com/windows/nanoserver:ltsc2022 AS t\nFROM alpine:3.20\n": true,
		"FROM --platform=$BUILDPLATFORM golang:1.22 AS b\nFROM alpine:3.20\n":         false,
		"FROM --platform=linux/amd64 python:3.12\n":                                   false,
		"FROM python:3.12 AS base\nFROM base\n":                                       false,
	} {
		df, err := dockerfile.Parse([]byte(src))
		if err != nil {
			t.Fatal(err)
		}
		if got := WindowsReason(df, nil) != ""; got != want {
			t.Errorf("WindowsReason(%q) = %q, want windows=%v", src, WindowsReason(df, nil), want)
		}
	}
}
