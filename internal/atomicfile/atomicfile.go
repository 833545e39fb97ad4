package atomicfile

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/ann2snn/ann2snn/internal/filekind"
)

// ErrNotRegular is wrapped by the *Error for a destination that exists and
// is not a regular file.
var ErrNotRegular = errors.New("not a regular file (outputs replace regular files only)")

// Error is a failure to write the destination Path: it cannot be created
// there (missing or read-only directory, not a regular file) or the write
// failed (full disk, I/O error).
type Error struct {
	Path string // the destination, symbolic links resolved
	Err  error
}

func (e *Error) Error() string { return fmt.Sprintf("writing %s: %v", e.Path, e.Err) }
func (e *Error) Unwrap() error { return e.Err }

// Resolve returns the file that Write(path, …) would replace: path with
// its symbolic links resolved. It returns an *Error when that file exists
// and is not a regular file, or when a link cannot be resolved.
func Resolve(path string) (string, error) {
	real := path
	if fi, err := os.Lstat(path); err == nil && fi.Mode()&fs.ModeSymlink != 0 {
		r, err := filepath.EvalSymlinks(path)
		if err != nil {
			// A dangling link: write where it points, relative to the
			// link's directory, if that target's directory exists.
			t, rerr := os.Readlink(path)
			if rerr != nil {
				return "", &Error{path, err}
			}
			if !filepath.IsAbs(t) {
				t = filepath.Join(filepath.Dir(path), t)
			}
			if _, serr := os.Lstat(t); serr == nil || !errors.Is(serr, fs.ErrNotExist) {
				return "", &Error{path, err}
			}
			r = t
		}
		real = r
	}
	fi, err := os.Stat(real)
	switch {
	case err == nil && !fi.Mode().IsRegular():
		return "", &Error{real, fmt.Errorf("%s: %w", filekind.Of(fi.Mode()), ErrNotRegular)}
	case err != nil && !errors.Is(err, fs.ErrNotExist):
		return "", &Error{real, unwrapPath(err)}
	}
	return real, nil
}

// Check reports, before any work is done, whether Write(path, …) can
// succeed as far as the file system tells in advance: the destination (see
// Resolve) is a regular file or absent, and its directory exists and
// accepts a new file (checked by creating and removing an empty temporary
// file). It returns the resolved destination, or an *Error.
func Check(path string) (string, error) {
	real, err := Resolve(path)
	if err != nil {
		return "", err
	}
	dir := filepath.Dir(real)
	if fi, err := os.Stat(dir); err != nil {
		return "", &Error{real, fmt.Errorf("directory %s: %w", dir, unwrapPath(err))}
	} else if !fi.IsDir() {
		return "", &Error{real, fmt.Errorf("%s is not a directory", dir)}
	}
	f, err := os.CreateTemp(dir, "."+filepath.Base(real)+".tmp-*")
	if err != nil {
		return "", &Error{real, fmt.Errorf("cannot create a file in %s: %w", dir, unwrapPath(err))}
	}
	f.Close()
	os.Remove(f.Name())
	return real, nil
}

// Write calls fill with a buffered writer on a temporary file next to the
// destination (path, symbolic links resolved, see the package comment)
// and, if fill and every write succeed, renames the file over it (mode
// 0644). On any error the temporary file is removed and the destination is
// untouched. Failures of the destination itself are *Error; an error of
// fill's own is returned as it is, except that a write error on the
// temporary file becomes an *Error naming the destination.
func Write(path string, fill func(w io.Writer) error) (err error) {
	real, err := Resolve(path)
	if err != nil {
		return err
	}
	f, err := os.CreateTemp(filepath.Dir(real), "."+filepath.Base(real)+".tmp-*")
	if err != nil {
		return &Error{real, unwrapPath(err)}
	}
	tmp := f.Name()
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(tmp)
		}
	}()
	bw := bufio.NewWriterSize(f, 1<<20)
	if err = fill(bw); err != nil {
		var pe *fs.PathError
		if errors.As(err, &pe) && pe.Path == tmp {
			return &Error{real, pe.Err}
		}
		return err
	}
	for _, step := range []func() error{bw.Flush, func() error { return f.Chmod(0o644) }, f.Sync, f.Close} {
		if err = step(); err != nil {
			return &Error{real, unwrapPath(err)}
		}
	}
	// The destination may have changed since Resolve: refuse to rename
	// over anything but a regular file (a narrow race remains, as with
	// any check-then-rename).
	if fi, serr := os.Lstat(real); serr == nil && !fi.Mode().IsRegular() {
		err = &Error{real, fmt.Errorf("%s: %w", filekind.Of(fi.Mode()), ErrNotRegular)}
		return err
	}
	if err = os.Rename(tmp, real); err != nil {
		return &Error{real, unwrapPath(err)}
	}
	if d, derr := os.Open(filepath.Dir(real)); derr == nil { // best effort: persist the rename
		d.Sync()
		d.Close()
	}
	return nil
}

// WriteFile is Write for content already in memory.
func WriteFile(path string, data []byte) error {
	return Write(path, func(w io.Writer) error {
		_, err := w.Write(data)
		return err
	})
}

// unwrapPath returns the cause of a *fs.PathError or *os.LinkError (whose
// path may be the temporary file's), else err.
func unwrapPath(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	var le *os.LinkError
	if errors.As(err, &le) {
		return le.Err
	}
	return err
}
