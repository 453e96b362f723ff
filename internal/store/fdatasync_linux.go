package store

import (
	"os"
	"syscall"
)

// fdatasync flushes f's data, and of its metadata only what reading the data back
// needs: SQLite's log is rewritten in place, so a flush need not wait for the
// filesystem's journal to record a new modification time, as fsync does.
func fdatasync(f *os.File) error {
	for {
		err := syscall.Fdatasync(int(f.Fd()))
		if err != syscall.EINTR {
			return err
		}
	}
}
