// Package atomicfile writes files so that a reader, or a crash, never sees
// a partial one: the content goes to a temporary file in the destination's
// directory, which is synced and then renamed over the destination.
//
// Every file ann2snn writes (.snn models, NIR files, fine-tuning
// checkpoints, JSON reports, plots) goes through Write or WriteFile. The
// data flow of Write is: Check the destination, create a temporary file
// beside it, call fill with the temporary file, sync and close it, rename
// it over the destination (and sync the directory where the system allows).
// When fill, the sync or the rename fails, the temporary file is removed
// and the destination is left as it was.
//
// Only regular files are ever replaced. A destination that exists and is
// not a regular file (a directory, device, FIFO or socket, /dev/null
// included) is refused before anything is written, since renaming over it
// would replace a system device by a plain file. A destination that is a
// symbolic link is written through: the link is resolved (every level)
// and the regular file it names is replaced, in the link target's
// directory; the link itself is kept. A link to a special file is refused
// like the special file.
//
// Errors about the destination are *Error, naming the destination (the
// resolved path for a link), never the temporary file.
//
// Not supported: streaming to a pipe or a device (use an ordinary writer),
// and atomicity across file systems (the temporary file is always in the
// destination's directory, so the rename never crosses one).
package atomicfile
