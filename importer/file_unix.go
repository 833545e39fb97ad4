//go:build unix

package importer

import "syscall"

// nonblock makes opening a FIFO return at once instead of waiting for a
// writer; reads of regular files are unaffected.
const nonblock = syscall.O_NONBLOCK
