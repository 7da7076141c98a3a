package facts

import "testing"

// TestClassifyPath: whose each directory is. The start-script scan,
// AppWrites and non-root-user all decide by it.
func TestClassifyPath(t *testing.T) {
	for p, want := range map[string]PathClass{
		// The application's own choice, outside the hierarchy.
		"/app": PathApp, "/app/logs": PathApp, "/data": PathApp, "/devdata/uploads": PathApp,
		"/tmpfiles": PathApp, "/public": PathApp, "/optional": PathApp, "/etcetera": PathApp,
		// Scratch: every user writes there, or no image file lives there.
		"/tmp": PathScratch, "/tmp/uploads": PathScratch, "/var/tmp/x": PathScratch,
		"/dev/shm/uploads": PathScratch, "/proc/1": PathScratch, "/sys": PathScratch,
		"/run/lock/app": PathScratch, "/var/lock/app": PathScratch,
		// The application's own directory inside the hierarchy.
		"/home/node": PathOwn, "/home/node/app": PathOwn, "/opt/app": PathOwn, "/opt/app.jar": PathOwn,
		"/srv/app": PathOwn, "/run/app": PathOwn, "/var/run/app": PathOwn, "/mnt/data": PathOwn,
		"/var/lib/app": PathOwn, "/var/log/app": PathOwn, "/var/cache/app/x": PathOwn,
		"/var/www": PathOwn, "/var/www/html": PathOwn, "/usr/src/app": PathOwn,
		"/usr/local/tomcat": PathOwn, "/usr/local/apache2/htdocs": PathOwn,
		// The parents of those: root's, but no system software.
		"/": PathParent, "/home": PathParent, "/opt": PathParent, "/srv": PathParent, "/run": PathParent,
		"/var": PathParent, "/var/log": PathParent, "/var/lib": PathParent, "/usr/src": PathParent,
		"/usr/local": PathParent, "/mnt": PathParent,
		// The system's software and configuration, root's home.
		"/etc": PathSystem, "/etc/nginx/nginx.conf": PathSystem, "/bin": PathSystem, "/sbin/x": PathSystem,
		"/lib/x86_64-linux-gnu": PathSystem, "/lib64": PathSystem, "/usr": PathSystem, "/usr/bin/composer": PathSystem,
		"/usr/lib/jvm": PathSystem, "/usr/share/nginx/html": PathSystem, "/usr/local/bin": PathSystem,
		"/usr/local/bin/node": PathSystem, "/usr/local/lib/python3.12": PathSystem, "/usr/local/etc/php": PathSystem,
		"/usr/local/share/.cache": PathSystem, "/root": PathSystem, "/root/.config/app": PathSystem,
		"/boot": PathSystem, "/nix/store": PathSystem,
		// Not clean, or relative: read from /.
		"/opt/app/../../etc": PathSystem, "etc/x": PathSystem, "/app/": PathApp,
	} {
		if got := ClassifyPath(p); got != want {
			t.Errorf("ClassifyPath(%q) = %d, want %d", p, got, want)
		}
	}
	for c, want := range map[PathClass]bool{PathApp: false, PathScratch: false, PathOwn: false, PathParent: true, PathSystem: true} {
		if c.RootOnly() != want {
			t.Errorf("%d.RootOnly() = %v, want %v", c, !want, want)
		}
	}
}
