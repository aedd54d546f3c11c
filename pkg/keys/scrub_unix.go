//go:build unix

package keys

import (
	"os"
	"syscall"
)

// scrubReplaced overwrites a keyring file that has just been replaced by a
// rename, so that the key material it held (versions Retire removed) does
// not stay in its blocks until the filesystem reuses them. It is best
// effort: copy-on-write filesystems and SSDs may keep the old blocks anyway.
// A file that still has another name (a hard link, e.g. a backup tool's) is
// somebody's copy and is left alone.
func scrubReplaced(f *os.File) {
	fi, err := f.Stat()
	if err != nil {
		return
	}
	if st, ok := fi.Sys().(*syscall.Stat_t); !ok || st.Nlink != 0 {
		return
	}
	if _, err := f.WriteAt(make([]byte, fi.Size()), 0); err == nil {
		_ = f.Sync()
	}
}
