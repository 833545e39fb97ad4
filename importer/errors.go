package importer

import (
	"fmt"
	"strings"
)

// FormatError reports a malformed, truncated or inconsistent model or
// tensor file: the file is at fault, not the tool.
type FormatError struct {
	Where string // what was being read, e.g. `initializer "w"`; may be empty
	Msg   string
	Err   error // underlying cause; may be nil
}

func (e *FormatError) Error() string {
	var b strings.Builder
	b.WriteString("importer: malformed model")
	if e.Where != "" {
		b.WriteString(": ")
		b.WriteString(e.Where)
	}
	if e.Msg != "" {
		b.WriteString(": ")
		b.WriteString(e.Msg)
	}
	if e.Err != nil {
		b.WriteString(": ")
		b.WriteString(e.Err.Error())
	}
	return b.String()
}

// Unwrap returns the underlying cause.
func (e *FormatError) Unwrap() error { return e.Err }

func formatErrorf(where, format string, args ...any) *FormatError {
	return &FormatError{Where: where, Msg: fmt.Sprintf(format, args...)}
}

// UnsupportedOpError reports a well-formed node that this importer cannot
// handle: an operator outside SupportedOps, an operator from a foreign
// domain, or a supported operator with an attribute value or input form
// that is not implemented (then Detail says which). The tool is at fault,
// not the file.
type UnsupportedOpError struct {
	Node      string   // node name
	Op        string   // operator type, with its domain when not the default one
	Detail    string   // empty when the operator itself is unsupported
	Supported []string // the supported operators, for the message
}

func (e *UnsupportedOpError) Error() string {
	if e.Detail != "" {
		return fmt.Sprintf("importer: node %q (%s): unsupported: %s", e.Node, e.Op, e.Detail)
	}
	return fmt.Sprintf("importer: node %q: unsupported operator %s (supported: %s)",
		e.Node, e.Op, strings.Join(e.Supported, ", "))
}

// UnsupportedFeatureError reports a well-formed model that uses a feature
// outside the scope of this importer that is not tied to one operator, such
// as an element type (uint8, string, ...) or sparse initializers.
type UnsupportedFeatureError struct {
	Where   string // e.g. `input "x"`
	Feature string
}

func (e *UnsupportedFeatureError) Error() string {
	return fmt.Sprintf("importer: %s: unsupported: %s", e.Where, e.Feature)
}

// NodeError reports a failure while evaluating, folding or inferring the
// shapes of one node (bad input shapes, inconsistent attributes).
type NodeError struct {
	Node, Op string
	Err      error
}

func (e *NodeError) Error() string {
	return fmt.Sprintf("importer: node %q (%s): %v", e.Node, e.Op, e.Err)
}

// Unwrap returns the underlying cause.
func (e *NodeError) Unwrap() error { return e.Err }

func nodeErr(n *Node, err error) error {
	if err == nil {
		return nil
	}
	if _, ok := err.(*NodeError); ok {
		return err
	}
	if u, ok := err.(*UnsupportedOpError); ok {
		return u
	}
	return &NodeError{Node: n.Name, Op: n.Op, Err: err}
}

func unsupportedAttr(n *Node, format string, args ...any) *UnsupportedOpError {
	return &UnsupportedOpError{Node: n.Name, Op: n.Op, Detail: fmt.Sprintf(format, args...)}
}
