package hdf5

import (
	"encoding/binary"
	"fmt"
	"math"
	"strings"
)

// File is an HDF5 file under construction: a root group and everything
// below it. The zero value is an empty file, ready to use.
type File struct {
	root Group
}

// Root returns the root group ("/").
func (f *File) Root() *Group { return &f.root }

// Group is an HDF5 group: named links to groups and datasets, kept in the
// order they were added (readers list them sorted by name).
type Group struct {
	links []link
}

// link is one member of a group; exactly one of group and dset is set.
type link struct {
	name  string
	group *Group
	dset  *dataset
}

// dtype is a dataset's element type.
type dtype uint8

const (
	float32Type dtype = iota + 1
	float64Type
	int64Type
	stringType // variable-length UTF-8
)

// dataset is a contiguous dataset: its shape and its little-endian raw
// bytes, or its strings for stringType (whose raw bytes refer to the
// global heap and are only known when the file is laid out).
type dataset struct {
	dims []uint64 // nil: scalar
	typ  dtype
	raw  []byte
	strs []string
}

// NameError reports a link name that cannot be added to a group.
type NameError struct {
	Name   string
	Reason string
}

func (e *NameError) Error() string { return fmt.Sprintf("hdf5: link name %q: %s", e.Name, e.Reason) }

// ShapeError reports dimensions that do not match the data.
type ShapeError struct {
	Name string
	Dims []int
	Len  int
}

func (e *ShapeError) Error() string {
	return fmt.Sprintf("hdf5: dataset %q: dimensions %v do not hold %d elements (nil dims = scalar = 1 element; every dimension must be ≥ 1)", e.Name, e.Dims, e.Len)
}

// checkName returns an error unless name can be a new link of g.
func (g *Group) checkName(name string) error {
	switch {
	case name == "":
		return &NameError{name, "empty"}
	case name == "." || name == "..":
		return &NameError{name, "reserved"}
	case strings.ContainsAny(name, "/\x00"):
		return &NameError{name, "contains '/' or NUL"}
	case len(name) > math.MaxUint16:
		return &NameError{name, "longer than 65535 bytes"}
	}
	for _, l := range g.links {
		if l.name == name {
			return &NameError{name, "already exists in the group"}
		}
	}
	return nil
}

// Group adds an empty subgroup called name and returns it.
func (g *Group) Group(name string) (*Group, error) {
	if err := g.checkName(name); err != nil {
		return nil, err
	}
	sub := &Group{}
	g.links = append(g.links, link{name: name, group: sub})
	return sub, nil
}

// shape checks dims against n elements and converts them.
func shape(name string, dims []int, n int) ([]uint64, error) {
	want := 1
	out := make([]uint64, len(dims))
	for i, d := range dims {
		if d < 1 || want > math.MaxInt/d {
			return nil, &ShapeError{name, dims, n}
		}
		want *= d
		out[i] = uint64(d)
	}
	if want != n {
		return nil, &ShapeError{name, dims, n}
	}
	if len(dims) == 0 {
		return nil, nil
	}
	return out, nil
}

func (g *Group) add(name string, dims []int, n int, d *dataset) error {
	if err := g.checkName(name); err != nil {
		return err
	}
	s, err := shape(name, dims, n)
	if err != nil {
		return err
	}
	if len(s) > 32 {
		return &ShapeError{name, dims, n}
	}
	d.dims = s
	g.links = append(g.links, link{name: name, dset: d})
	return nil
}

// Float32 adds a dataset of IEEE little-endian float32 values with the
// given dimensions (row-major; nil or empty dims make a scalar and need
// len(v) == 1). v is copied.
func (g *Group) Float32(name string, dims []int, v []float32) error {
	raw := make([]byte, 4*len(v))
	for i, x := range v {
		binary.LittleEndian.PutUint32(raw[4*i:], math.Float32bits(x))
	}
	return g.add(name, dims, len(v), &dataset{typ: float32Type, raw: raw})
}

// Float64 adds a dataset of IEEE little-endian float64 values, as Float32.
func (g *Group) Float64(name string, dims []int, v []float64) error {
	raw := make([]byte, 8*len(v))
	for i, x := range v {
		binary.LittleEndian.PutUint64(raw[8*i:], math.Float64bits(x))
	}
	return g.add(name, dims, len(v), &dataset{typ: float64Type, raw: raw})
}

// Int64 adds a dataset of signed little-endian 64-bit integers, as Float32.
func (g *Group) Int64(name string, dims []int, v []int64) error {
	raw := make([]byte, 8*len(v))
	for i, x := range v {
		binary.LittleEndian.PutUint64(raw[8*i:], uint64(x))
	}
	return g.add(name, dims, len(v), &dataset{typ: int64Type, raw: raw})
}

// String adds a scalar dataset holding s as a variable-length UTF-8 string
// (h5py reads it as bytes). s must not contain NUL.
func (g *Group) String(name, s string) error {
	return g.Strings(name, nil, []string{s})
}

// Strings adds a dataset of variable-length UTF-8 strings with the given
// dimensions, as Float32. No string may contain NUL.
func (g *Group) Strings(name string, dims []int, s []string) error {
	for i, x := range s {
		if strings.IndexByte(x, 0) >= 0 {
			return fmt.Errorf("hdf5: dataset %q: string %d contains NUL", name, i)
		}
	}
	return g.add(name, dims, len(s), &dataset{typ: stringType, strs: append([]string(nil), s...)})
}
