package facts

import (
	"path"
	"strings"
)

// PathClass says whose a directory of a container's file system is: the
// one answer to "is this a system directory" that the start-script scan,
// AppWrites and the non-root-user rule share.
type PathClass int

const (
	// PathApp is a directory outside the system's hierarchy (/app, /code,
	// /data, /workspace): one the application chose for itself.
	PathApp PathClass = iota
	// PathScratch is a directory every user may write (/tmp, /var/tmp,
	// /run/lock, /var/lock) or one no file of the image lives in (/dev,
	// /proc, /sys). /run itself is not one: in Debian- and Alpine-based
	// images it belongs to root (mode 755).
	PathScratch
	// PathOwn is a directory of the application's own inside the
	// system's hierarchy, which the image may give to its user: a
	// directory of its own below /home, /opt, /srv, /run, /mnt, /media,
	// /usr/src or /usr/local (/home/node, /opt/app, /run/app,
	// /usr/src/app, /usr/local/tomcat), two levels below /var
	// (/var/lib/app, /var/log/app, /var/cache/app), and the web root
	// /var/www.
	PathOwn
	// PathParent is a directory of the hierarchy that holds the
	// applications' own directories: /, /home, /opt, /srv, /run, /mnt,
	// /media, /usr/src, /usr/local, /var and the directories directly in
	// /var (/var/lib, /var/log). It belongs to root, so only root may
	// create a file or directory directly in it, but an application may
	// be copied into it (WORKDIR /srv), and it is not the system's
	// software.
	PathParent
	// PathSystem is the system's own software, configuration and root's
	// home: /etc, /bin, /sbin, /lib*, /usr (but for /usr/src and the
	// directories of /usr/local other than its standard ones), the
	// standard directories of /usr/local (bin, sbin, lib, share, include,
	// etc...), /root, /boot and /nix. It stays root's: the application
	// must not be able to rewrite it, and only root writes there.
	PathSystem
)

// RootOnly reports whether only root may create files directly in a
// directory of the class when the image gives it to no one: PathSystem
// and PathParent.
func (c PathClass) RootOnly() bool { return c == PathSystem || c == PathParent }

// ClassifyPath returns the class of the directory p of a container's file
// system (an absolute path; a relative one is read from /). A file is
// classified by its path too: /opt/app.jar is in /opt's own directory
// app.jar for this purpose, /etc/app.conf in /etc; callers asking whether
// a file may be created pass its directory.
func ClassifyPath(p string) PathClass {
	p = path.Clean("/" + p)
	for _, d := range []string{"/tmp", "/var/tmp", "/dev", "/proc", "/sys", "/run/lock", "/var/lock"} {
		if Under(p, d) {
			return PathScratch
		}
	}
	if p == "/" {
		return PathParent
	}
	parts := strings.Split(p[1:], "/")
	// below returns the class of a directory n levels below a parent
	// (parts[:n] is the parent).
	below := func(n int) PathClass {
		if len(parts) > n {
			return PathOwn
		}
		return PathParent
	}
	switch parts[0] {
	case "home", "opt", "srv", "run", "mnt", "media":
		return below(1)
	case "var":
		if len(parts) >= 2 && parts[1] == "www" {
			return PathOwn
		}
		return below(2)
	case "usr":
		if len(parts) < 2 {
			return PathSystem
		}
		switch parts[1] {
		case "src":
			return below(2)
		case "local":
			if len(parts) >= 3 && usrLocalStandard[parts[2]] {
				return PathSystem
			}
			return below(2)
		}
		return PathSystem
	case "etc", "bin", "sbin", "lib", "lib32", "lib64", "libx32", "root", "boot", "nix":
		return PathSystem
	}
	return PathApp
}

// usrLocalStandard are the directories of /usr/local that hold the
// system's locally installed software (the FHS's), not an application's
// own tree such as /usr/local/tomcat.
var usrLocalStandard = map[string]bool{
	"bin": true, "sbin": true, "lib": true, "lib32": true, "lib64": true, "libx32": true, "libexec": true,
	"share": true, "include": true, "etc": true, "man": true, "games": true,
}
