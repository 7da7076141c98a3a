//go:build unix

package lockfile

import (
	"errors"
	"os"
	"syscall"
)

const enforced = true

// noFollow makes opening a lock file that is a symbolic link fail: a
// repository could ship .composeopt/lock as a link to a file outside it.
const noFollow = syscall.O_NOFOLLOW

// tryLock takes an exclusive flock on f without blocking; false means
// another process holds it.
func tryLock(f *os.File) (bool, error) {
	for {
		err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
		switch {
		case err == nil:
			return true, nil
		case errors.Is(err, syscall.EWOULDBLOCK):
			return false, nil
		case errors.Is(err, syscall.EINTR):
			continue
		default:
			return false, err
		}
	}
}
