package dataset

import "fmt"

// FormatError reports malformed input: the file (or stream) is not a valid
// instance of its format, or is truncated, or its header disagrees with its
// size. The file is at fault, not the tool.
type FormatError struct {
	Path   string // file name; "" for a stream passed as io.Reader
	Format string // "idx", "cifar10", "npy", ...
	Msg    string // what is wrong
	Err    error  // underlying error (I/O, gzip), may be nil
}

func (e *FormatError) Error() string {
	s := "dataset: " + e.Format
	if e.Path != "" {
		s += " " + e.Path
	}
	s += ": " + e.Msg
	if e.Err != nil {
		s += ": " + e.Err.Error()
	}
	return s
}

// Unwrap returns the underlying error.
func (e *FormatError) Unwrap() error { return e.Err }

// UnsupportedError reports a well-formed file that uses a feature this
// package does not implement (Fortran order, big-endian data, an IDX element
// type other than unsigned byte, ...). The tool is at fault, not the file.
type UnsupportedError struct {
	Path    string // file name; "" for a stream
	Format  string // "idx", "npy", ...
	Feature string // the unsupported feature
}

func (e *UnsupportedError) Error() string {
	s := "dataset: " + e.Format
	if e.Path != "" {
		s += " " + e.Path
	}
	return s + ": unsupported: " + e.Feature
}

func formatErr(path, format string, err error, msg string, args ...any) error {
	return &FormatError{Path: path, Format: format, Msg: fmt.Sprintf(msg, args...), Err: err}
}
