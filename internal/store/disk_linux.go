package store

import (
	"errors"
	"os"
	"syscall"
)

// stRdonly is ST_RDONLY of statfs(2)'s f_flags (Linux: <sys/statvfs.h>).
const stRdonly = 1

// statDisk asks the filesystem of dir: statfs for a read-only mount or too little space, then an
// empty file created and removed, because a filesystem turned read-only after an error need not say
// so in statfs (Linux 6.x ext4 keeps the mount "rw" and marks it emergency_ro: only writes fail, with
// EROFS).
func statDisk(dir string) DiskState {
	var st syscall.Statfs_t
	if err := syscall.Statfs(dir, &st); err == nil {
		switch {
		case st.Flags&stRdonly != 0:
			return DiskReadOnly
		case int64(st.Bavail)*int64(st.Bsize) < lowSpace:
			return DiskFull
		}
	}
	f, err := os.CreateTemp(dir, ".sailcdn-write-probe-*")
	switch {
	case err == nil:
		f.Close()
		_ = os.Remove(f.Name())
	case errors.Is(err, syscall.EROFS), errors.Is(err, syscall.EACCES), errors.Is(err, syscall.EPERM):
		return DiskReadOnly
	case errors.Is(err, syscall.ENOSPC), errors.Is(err, syscall.EDQUOT):
		return DiskFull
	}
	return DiskOK
}
