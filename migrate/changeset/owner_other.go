//go:build !unix

package changeset

import (
	"io/fs"
	"os"
)

// copyOwner does nothing where files have no Unix owner.
func copyOwner(*os.File, fs.FileInfo) error { return nil }
