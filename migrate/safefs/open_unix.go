//go:build unix

package safefs

import "syscall"

const nonblock = syscall.O_NONBLOCK
