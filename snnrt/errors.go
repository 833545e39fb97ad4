package snnrt

import (
	"errors"
	"fmt"
)

// LayerError reports a problem with one layer of a Model.
type LayerError struct {
	Layer int    // index in Model.Layers
	Name  string // Layer.Name
	Kind  Kind
	Err   error
}

// Error formats the error as "snnrt: layer i "name" (kind): cause".
func (e *LayerError) Error() string {
	return fmt.Sprintf("snnrt: layer %d %q (%v): %v", e.Layer, e.Name, e.Kind, e.Err)
}

// Unwrap returns the underlying error.
func (e *LayerError) Unwrap() error { return e.Err }

// FormatError reports a malformed .snn file: the file is at fault.
type FormatError struct {
	What string // the part of the file, e.g. "header", "tensor layers.3.W"
	Err  error
}

// Error formats the error with the part of the file at fault.
func (e *FormatError) Error() string {
	return fmt.Sprintf("snnrt: malformed .snn file: %s: %v", e.What, e.Err)
}

// Unwrap returns the underlying error.
func (e *FormatError) Unwrap() error { return e.Err }

// UnsupportedError reports a well-formed .snn file that uses a feature this
// version of the tool does not implement (another format version, an
// unknown dtype or layer kind): the tool is at fault, not the file.
type UnsupportedError struct {
	Feature string
}

// Error names the unsupported feature.
func (e *UnsupportedError) Error() string {
	return "snnrt: unsupported .snn feature: " + e.Feature
}

// ErrChecksum is wrapped by the FormatError returned for a file whose
// CRC-32C does not match its contents.
var ErrChecksum = errors.New("CRC-32C mismatch (file corrupted)")

// ErrTruncated is wrapped by the FormatError returned for a file shorter
// than its header says.
var ErrTruncated = errors.New("file truncated")
