package inspect

import (
	"archive/tar"
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/registry"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/tarball"

	"github.com/composeopt/composeopt/migrate/facts"
)

// entry is one file of a crafted layer: body "" with link set is a
// symlink; a name starting with ".wh." is a whiteout.
type entry struct {
	name, body, link string
}

func layer(t *testing.T, entries ...entry) v1.Layer {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, e := range entries {
		h := &tar.Header{Name: e.name, Mode: 0o755, Size: int64(len(e.body)), Typeflag: tar.TypeReg}
		if e.link != "" {
			h.Typeflag, h.Linkname, h.Size = tar.TypeSymlink, e.link, 0
		}
		if err := tw.WriteHeader(h); err != nil {
			t.Fatal(err)
		}
		if _, err := tw.Write([]byte(e.body)); err != nil {
			t.Fatal(err)
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	data := buf.Bytes()
	l, err := tarball.LayerFromOpener(func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(data)), nil })
	if err != nil {
		t.Fatal(err)
	}
	return l
}

func image(t *testing.T, cfg v1.Config, layers ...v1.Layer) v1.Image {
	t.Helper()
	img, err := mutate.AppendLayers(empty.Image, layers...)
	if err != nil {
		t.Fatal(err)
	}
	cf, err := img.ConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	cf = cf.DeepCopy()
	cf.OS, cf.Architecture, cf.Config = "linux", "amd64", cfg
	img, err = mutate.ConfigFile(img, cf)
	if err != nil {
		t.Fatal(err)
	}
	return img
}

// serve starts an in-process registry and pushes the images to it.
func serve(t *testing.T, images map[string]v1.Image) (string, *int) {
	t.Helper()
	var manifestGets int
	reg := registry.New()
	srv := httptest.NewServer(reg)
	srv.Config.Handler = countingHandler(reg, &manifestGets)
	t.Cleanup(srv.Close)
	host := strings.TrimPrefix(srv.URL, "http://")
	for ref, img := range images {
		r, err := name.ParseReference(host + "/" + ref)
		if err != nil {
			t.Fatal(err)
		}
		if err := remote.Write(r, img); err != nil {
			t.Fatal(err)
		}
	}
	return host, &manifestGets
}

const debianOSRelease = "PRETTY_NAME=\"Debian GNU/Linux 12 (bookworm)\"\nID=debian\nVERSION_CODENAME=bookworm\n"

func TestInspectRegistry(t *testing.T) {
	nodeLike := image(t, v1.Config{User: "", ExposedPorts: map[string]struct{}{"3000/tcp": {}}, Cmd: []string{"node"}},
		layer(t, entry{name: "bin", link: "usr/bin"}, entry{name: "usr/bin/sh", body: "x"}, entry{name: "usr/bin/bash", body: "x"},
			entry{name: "usr/bin/apt-get", body: "x"}, entry{name: "usr/sbin/useradd", body: "x"},
			entry{name: "etc/os-release", link: "../usr/lib/os-release"}, entry{name: "usr/lib/os-release", body: debianOSRelease},
			entry{name: "etc/passwd", body: "root:x:0:0:root:/root:/bin/bash\nwww-data:x:33:33:www-data:/var/www:/usr/sbin/nologin\n"},
			entry{name: "usr/bin/curl", body: "x"}),
		layer(t, entry{name: "usr/local/bin/node", body: "x"},
			entry{name: "etc/passwd", body: "root:x:0:0:root:/root:/bin/bash\nnode:x:1000:1000::/home/node:/bin/bash\n"},
			entry{name: "usr/bin/.wh.curl"}))
	alpineNonroot := image(t, v1.Config{User: "65532", Entrypoint: []string{"/app"}},
		layer(t, entry{name: "bin/busybox", body: "x"}, entry{name: "bin/sh", link: "/bin/busybox"}, entry{name: "sbin/apk", body: "x"},
			entry{name: "etc/os-release", body: "ID=alpine\nVERSION_ID=3.20.0\n"},
			entry{name: "etc/passwd", body: "root:x:0:0:root:/root:/bin/sh\nnonroot:x:65532:65532::/home/nonroot:/sbin/nologin\n"}))
	distroless := image(t, v1.Config{User: "65532"},
		layer(t, entry{name: "etc/os-release", body: "ID=debian\n"},
			entry{name: "etc/passwd", body: "root:x:0:0:root:/root:/sbin/nologin\nnonroot:x:65532:65532:nonroot:/home/nonroot:/sbin/nologin\n"}))
	host, gets := serve(t, map[string]v1.Image{"library/node:20-crafted": nodeLike, "team/alpine:nonroot": alpineNonroot, "team/static:1": distroless})
	cache := t.TempDir()
	opts := Options{Remote: true, CacheDir: cache}
	ctx := context.Background()

	r, err := Image(ctx, host+"/library/node:20-crafted", opts)
	if err != nil {
		t.Fatal(err)
	}
	f := r.Facts
	if f.Family != facts.Debian || f.OS != "debian" || f.PkgManager != "apt" || f.UserTools != "useradd" || f.Shell != "/bin/sh" {
		t.Errorf("node: %+v", f)
	}
	if _, ok := f.Account("node"); !ok || len(f.Accounts) != 1 {
		t.Errorf("node: accounts %+v, want node only (the top layer's passwd)", f.Accounts)
	}
	if !f.HasTool("node") || !f.HasTool("bash") || f.HasTool("curl") {
		t.Errorf("node: tools %v, want node and bash, and no curl (whited out)", f.Tools)
	}
	if !slices.Equal(f.Ports, []int{3000}) || !slices.Equal(r.Cmd, []string{"node"}) || r.From != "registry" || !strings.HasPrefix(r.Digest, "sha256:") {
		t.Errorf("node: ports %v cmd %v from %s digest %s", f.Ports, r.Cmd, r.From, r.Digest)
	}

	r, err = Image(ctx, host+"/team/alpine:nonroot", opts)
	if err != nil {
		t.Fatal(err)
	}
	f = r.Facts
	if f.Family != facts.Alpine || f.PkgManager != "apk" || f.UserTools != "adduser" || f.DefaultUser != "65532" || !f.HasTool("wget") {
		t.Errorf("alpine: %+v", f)
	}

	r, err = Image(ctx, host+"/team/static:1", opts)
	if err != nil {
		t.Fatal(err)
	}
	if f := r.Facts; f.Family != facts.Distroless || f.Shell != "" || f.DefaultUser != "65532" {
		t.Errorf("distroless: %+v", f)
	}

	// The second read comes from the cache, keyed by digest: the manifest
	// is only HEADed, not fetched again.
	before := *gets
	r2, err := Image(ctx, host+"/library/node:20-crafted", opts)
	if err != nil {
		t.Fatal(err)
	}
	if r2.From != "cache" || r2.Digest == "" || *gets != before {
		t.Errorf("second read from %s with %d manifest GETs, want cache and none", r2.From, *gets-before)
	}
	entries, _ := os.ReadDir(cache)
	if len(entries) != 3 {
		t.Errorf("cache holds %d files, want 3", len(entries))
	}
	// A corrupted cache file is not trusted.
	h, _ := v1.NewHash(r2.Digest)
	if err := os.WriteFile(filepath.Join(cache, h.Algorithm+"-"+h.Hex+".json"), []byte("{"), 0o644); err != nil {
		t.Fatal(err)
	}
	if r3, err := Image(ctx, host+"/library/node:20-crafted", opts); err != nil || r3.From != "registry" {
		t.Errorf("after corrupting the cache: from %s, %v", r3.From, err)
	}

	if _, err := Image(ctx, host+"/team/missing:1", opts); err == nil || !strings.Contains(err.Error(), "team/missing:1") {
		t.Errorf("missing image: %v", err)
	}
	if _, err := Image(ctx, "node:${V}", opts); err == nil {
		t.Error("an unexpanded reference was inspected")
	}
}

func TestMerge(t *testing.T) {
	table := facts.LookupImage("node:20-bookworm-slim")
	real := facts.ImageFacts{Family: facts.Debian, Known: true, Accounts: []facts.Account{{Name: "node", UID: 1000, GID: 1000}}}
	if m := Merge(table, real); m.AppUser != "node" {
		t.Errorf("app user %q, want node", m.AppUser)
	}
	real.Accounts = nil
	if m := Merge(table, real); m.AppUser != "" {
		t.Errorf("app user %q kept although the image has no such account", m.AppUser)
	}
}

func countingHandler(h http.Handler, n *int) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.Contains(r.URL.Path, "/manifests/") && r.Method == http.MethodGet {
			*n++
		}
		h.ServeHTTP(w, r)
	})
}
