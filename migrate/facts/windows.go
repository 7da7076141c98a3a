package facts

import (
	"strings"

	"github.com/composeopt/composeopt/migrate/dockerfile"
)

// windowsOnlyImages are repositories (lower case, registry included) that
// publish Windows images only: the rules, which write Linux shell commands,
// must not touch a Dockerfile built on one of them.
var windowsOnlyImages = []string{
	"mcr.microsoft.com/windows",
	"mcr.microsoft.com/dotnet/framework/",
	"microsoft/windowsservercore",
	"microsoft/nanoserver",
	"microsoft/dotnet-framework",
	"microsoft/aspnet",
	"microsoft/iis",
}

// windowsTags are tag fragments only Windows variants of multi-OS images
// use (python:3.12-windowsservercore, golang:1.22-nanoserver-ltsc2022).
var windowsTags = []string{"windowsservercore", "servercore", "nanoserver", "ltsc20", "windows"}

// IsWindowsImage reports whether an image reference names a Windows-only
// image.
func IsWindowsImage(ref string) bool {
	r := strings.ToLower(ref)
	if r == "" || r == "scratch" {
		return false
	}
	name, _, _ := strings.Cut(r, "@")
	for _, p := range windowsOnlyImages {
		if strings.HasPrefix(name, p) {
			return true
		}
	}
	im := ParseImage(ref)
	tag := strings.ToLower(im.Tag)
	for _, t := range windowsTags {
		if strings.Contains(tag, t) {
			return true
		}
	}
	return strings.Contains(im.Name, "servercore") || strings.Contains(im.Name, "nanoserver")
}

// WindowsReason says why a Dockerfile builds Windows containers ("" when
// nothing says so): a stage with FROM --platform=windows/..., or a stage
// based on a Windows-only image. Build arguments are expanded first.
func WindowsReason(f *dockerfile.File, buildArgs map[string]string) string {
	args := GlobalArgs(f, buildArgs)
	for _, st := range f.Stages {
		if p := strings.ToLower(Expand(st.Platform, args)); strings.HasPrefix(p, "windows") {
			return "FROM --platform=" + p
		}
		if st.BaseStage != nil {
			continue
		}
		if ref := Expand(st.Base, args); IsWindowsImage(ref) {
			return ref
		}
	}
	return ""
}
