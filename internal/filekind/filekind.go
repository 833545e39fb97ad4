// Package filekind names the type of a file from its mode, for errors
// that refuse files which are not regular ("not a regular file (a FIFO)").
// The importer (model files) and atomicfile (outputs) share it so that both
// say the same words for the same file.
package filekind

import "io/fs"

// Of returns an indefinite noun phrase for the type of a file with mode m:
// "a regular file", "a directory", "a character device", "a block device",
// "a FIFO", "a socket", "a symbolic link", or "a special file".
func Of(m fs.FileMode) string {
	switch {
	case m.IsRegular():
		return "a regular file"
	case m.IsDir():
		return "a directory"
	case m&fs.ModeCharDevice != 0:
		return "a character device"
	case m&fs.ModeDevice != 0:
		return "a block device"
	case m&fs.ModeNamedPipe != 0:
		return "a FIFO"
	case m&fs.ModeSocket != 0:
		return "a socket"
	case m&fs.ModeSymlink != 0:
		return "a symbolic link"
	}
	return "a special file"
}
