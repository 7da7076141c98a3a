package dockerfile

import (
	"slices"
	"testing"
)

// TestMounts checks that RUN mounts are read as BuildKit reads them:
// CSV quoting, key aliases and case, and mounts of other types.
func TestMounts(t *testing.T) {
	src := "FROM alpine\n" +
		"RUN --mount=type=cache,target=/root/.npm,id=npm --mount=type=secret,id=tok --mount=TYPE=cache,dst=/var/cache/apk npm ci\n" +
		"RUN --mount=type=cache,\"target=/a b\",sharing=locked x\n" +
		"RUN --mount=type=bind,from=builder,target=/src --mount=from=tools,target=/t y\n" +
		"COPY --from=builder /x /x\n"
	f, err := Parse([]byte(src))
	if err != nil {
		t.Fatal(err)
	}
	if got, want := f.Instructions[1].CacheMountTargets(), []string{"/root/.npm", "/var/cache/apk"}; !slices.Equal(got, want) {
		t.Errorf("cache targets %q, want %q", got, want)
	}
	if got, want := f.Instructions[2].CacheMountTargets(), []string{"/a b"}; !slices.Equal(got, want) {
		t.Errorf("quoted cache target %q, want %q", got, want)
	}
	var from []string
	for _, m := range f.Instructions[3].Mounts() {
		from = append(from, m.From)
	}
	if want := []string{"builder", "tools"}; !slices.Equal(from, want) {
		t.Errorf("mount from %q, want %q", from, want)
	}
	if m := f.Instructions[4].Mounts(); m != nil {
		t.Errorf("COPY has mounts %v", m)
	}
}
