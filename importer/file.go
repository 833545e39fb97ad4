package importer

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/ann2snn/ann2snn/internal/filekind"
)

// DefaultMaxModelBytes is the size limit on a model file when
// Options.MaxModelBytes is 0: 2 GiB, protobuf's own limit on one
// message, so every valid single-file ONNX model fits. Larger weights
// belong in external data files, which are bounded per tensor by
// MaxElements.
const DefaultMaxModelBytes int64 = 2 << 30

// Options control how LoadWith and ReadModel read a model file. The zero
// value is the default.
type Options struct {
	// MaxModelBytes bounds the size of the model file in bytes; 0 means
	// DefaultMaxModelBytes. A larger file is refused with a *FileError
	// before it is read.
	MaxModelBytes int64
}

func (o Options) maxModelBytes() int64 {
	if o.MaxModelBytes > 0 {
		return o.MaxModelBytes
	}
	return DefaultMaxModelBytes
}

// FileError reports a model path that cannot be read as a model file: it
// is not a regular file once symbolic links are followed (a directory,
// device such as /dev/zero, FIFO or socket), it is larger than the size
// limit, or opening or reading it failed (then Err says why).
type FileError struct {
	Path string
	Msg  string
	Err  error // underlying cause; may be nil
}

func (e *FileError) Error() string {
	s := "importer: " + e.Path
	if e.Msg != "" {
		s += ": " + e.Msg
	}
	if e.Err != nil {
		s += ": " + e.Err.Error()
	}
	return s
}

// Unwrap returns the underlying cause.
func (e *FileError) Unwrap() error { return e.Err }

// refusal is openRegular's reason for refusing a file it could open.
type refusal struct {
	msg    string
	tooBig bool
}

func (r *refusal) Error() string { return r.msg }

// openRegular opens a file with open, passing flags that make the open
// non-blocking (a FIFO with no writer does not hang), and returns it with
// its size if it is a regular file (symbolic links followed) of at most
// max bytes; otherwise it returns a *refusal or open's error.
func openRegular(open func(flag int) (*os.File, error), max int64) (*os.File, int64, error) {
	f, err := open(os.O_RDONLY | nonblock)
	if err != nil {
		return nil, 0, err
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, 0, err
	}
	if !st.Mode().IsRegular() {
		f.Close()
		return nil, 0, &refusal{msg: "not a regular file (" + filekind.Of(st.Mode()) + ")"}
	}
	if st.Size() > max {
		f.Close()
		return nil, 0, &refusal{msg: fmt.Sprintf("%d bytes, over the limit of %d", st.Size(), max), tooBig: true}
	}
	return f, st.Size(), nil
}

// ReadModel reads a model file after checking that it is a regular file
// (symbolic links followed) of at most opt.MaxModelBytes bytes. Special
// files (/dev/zero, a FIFO, a directory) are refused without reading, and
// a FIFO is opened without blocking. Errors are *FileError.
func ReadModel(path string, opt Options) ([]byte, error) {
	max := opt.maxModelBytes()
	f, size, err := openRegular(func(flag int) (*os.File, error) { return os.OpenFile(path, flag, 0) }, max)
	var r *refusal
	switch {
	case errors.As(err, &r) && r.tooBig:
		return nil, &FileError{Path: path, Msg: r.msg + " (raise it with Options.MaxModelBytes, --max-model-size on the command line)"}
	case errors.As(err, &r):
		return nil, &FileError{Path: path, Msg: r.msg}
	case err != nil:
		return nil, &FileError{Path: path, Err: err}
	}
	defer f.Close()
	data := make([]byte, size)
	if _, err := io.ReadFull(f, data); err != nil {
		return nil, &FileError{Path: path, Msg: "reading", Err: err}
	}
	return data, nil
}

// LoadWith reads an ONNX model file with ReadModel and returns its
// normalized Graph; external tensor data is read relative to the file's
// directory. See Parse for the errors besides *FileError.
func LoadWith(path string, opt Options) (*Graph, error) {
	data, err := ReadModel(path, opt)
	if err != nil {
		return nil, err
	}
	g, err := Parse(data, filepath.Dir(path))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return g, nil
}
