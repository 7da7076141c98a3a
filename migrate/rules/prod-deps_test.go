package rules

import (
	"testing"

	"github.com/composeopt/composeopt/migrate/facts"
)

func TestProdDepsWithCacheMount(t *testing.T) {
	// prod-deps runs first; cache-mount then swaps --no-cache-dir for a mount,
	// and the pair reaches a fixed point.
	in := "FROM python:3.11-alpine\nCOPY requirements.txt .\nRUN pip install -r requirements.txt\n"
	fb := &facts.Build{Files: map[string]bool{"requirements.txt": true}, Services: []facts.Service{{Name: "app"}}}
	res, err := Apply([]byte(in), fb, []*Rule{ProdDeps, PkgCache, CacheMount}, DefaultOptions())
	if err != nil {
		t.Fatal(err)
	}
	want := "FROM python:3.11-alpine\nCOPY requirements.txt .\nRUN --mount=type=cache,target=/root/.cache/pip \\\n    pip install -r requirements.txt\n"
	if string(res.Output) != want {
		t.Errorf("got\n%s", res.Output)
	}
	again, _ := Apply(res.Output, fb, []*Rule{ProdDeps, PkgCache, CacheMount}, DefaultOptions())
	if string(again.Output) != string(res.Output) {
		t.Errorf("not stable:\n%s", again.Output)
	}
	// apt: pkg-cache adds the lists cleanup, cache-mount turns it into a mount.
	apt := "FROM debian:bookworm\nRUN apt-get install curl\n"
	res, err = Apply([]byte(apt), fb, []*Rule{ProdDeps, PkgCache, CacheMount}, DefaultOptions())
	if err != nil {
		t.Fatal(err)
	}
	want = "FROM debian:bookworm\nRUN --mount=type=cache,target=/var/lib/apt/lists,sharing=locked \\\n    apt-get update \\\n    && apt-get install --no-install-recommends -y curl\n"
	if string(res.Output) != want {
		t.Errorf("apt: got\n%s", res.Output)
	}
	again, _ = Apply(res.Output, fb, []*Rule{ProdDeps, PkgCache, CacheMount}, DefaultOptions())
	if string(again.Output) != string(res.Output) {
		t.Errorf("apt not stable:\n%s", again.Output)
	}
}
