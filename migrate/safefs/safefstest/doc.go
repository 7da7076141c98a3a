// Package safefstest holds test helpers for special files that only some
// systems can make, so that the tests of every package build on all of
// them (GOOS=windows go vet ./... included) and skip where the file kind
// does not exist.
package safefstest
