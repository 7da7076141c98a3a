// Package changeset holds the files a migration creates or changes, renders
// them as a unified diff that `git apply` accepts, and writes them
// atomically (all files or none).
package changeset

import "io/fs"

// File is one file of the change set.
type File struct {
	// Path is the absolute path of the file (a symlink is written through to its target).
	Path string
	// Old is the content read when the plan was made; nil when the file does not exist.
	Old []byte
	// New is the content to write.
	New []byte
	// Exists reports whether the file existed when the plan was made.
	Exists bool
	// Mode is the permission of a new file (existing files keep theirs).
	Mode fs.FileMode
	// Reference marks a file that points at others (a compose file edit):
	// Apply renames it into place after every other file, so that it never
	// names a file that is not there yet.
	Reference bool
}

// Changed reports whether writing the file would change anything.
func (f File) Changed() bool { return !f.Exists || string(f.Old) != string(f.New) }

// Set is an ordered list of files; paths are unique.
type Set struct {
	Files []File

	paths map[string]bool // the cleaned paths of Files, kept by Add
	pre   *prerendered    // diffs rendered ahead (Prerender)
}
