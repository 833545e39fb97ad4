package hdf5_test

import (
	"bytes"
	"fmt"

	"github.com/ann2snn/ann2snn/internal/hdf5"
)

// Example builds a small tree in the layout of a NIR file and writes it.
func Example() {
	var f hdf5.File
	root := f.Root()
	if err := root.String("version", "1.0.7"); err != nil {
		panic(err)
	}
	node, err := root.Group("node")
	if err != nil {
		panic(err)
	}
	err = node.Float32("weight", []int{2, 3}, []float32{1, 2, 3, 4, 5, 6})
	if err == nil {
		err = node.Strings("edges", []int{1, 2}, []string{"input", "output"})
	}
	if err != nil {
		panic(err)
	}
	var buf bytes.Buffer
	n, err := f.WriteTo(&buf)
	fmt.Println(n == int64(buf.Len()), err, fmt.Sprintf("%q", buf.Bytes()[:8]))
	// Output: true <nil> "\x89HDF\r\n\x1a\n"
}
