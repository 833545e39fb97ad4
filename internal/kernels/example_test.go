package kernels_test

import (
	"fmt"

	"github.com/ann2snn/ann2snn/internal/kernels"
)

func ExampleSgemm() {
	// C = A·B for A 2×3 and B 3×2.
	a := []float32{1, 2, 3, 4, 5, 6}
	b := []float32{1, 0, 0, 1, 1, 1}
	c := make([]float32, 4)
	kernels.Sgemm(false, false, 2, 2, 3, 1, a, 3, b, 2, 0, c, 2)
	fmt.Println(c)
	// Output: [4 5 10 11]
}

func ExampleConv() {
	// A 3×3 box filter with bias 0.5 over one 1-channel 3×3 image, padded
	// by one pixel on every side.
	g := kernels.ConvGeom{C: 1, H: 3, W: 3, K: 1, KH: 3, KW: 3, PadT: 1, PadL: 1, PadB: 1, PadR: 1}
	w := []float32{1, 1, 1, 1, 1, 1, 1, 1, 1}
	conv := kernels.NewConv(g, w, []float32{0.5})
	x := []float32{1, 2, 3, 4, 5, 6, 7, 8, 9}
	dst := make([]float32, g.OutH()*g.OutW())
	ws := make([]float32, conv.WorkspaceLen(1)) // reuse across calls
	conv.Forward(dst, x, 1, ws)
	fmt.Println(dst)
	// Output: [12.5 21.5 16.5 27.5 45.5 33.5 24.5 39.5 28.5]
}

func ExampleConvNHWC() {
	// Two 1×1 filters (identity and doubling) over one 1-channel 2×2
	// image: the output is channels-last, one row of K = 2 values per
	// pixel.
	g := kernels.ConvGeom{C: 1, H: 2, W: 2, K: 2, KH: 1, KW: 1}
	conv := kernels.NewConvNHWC(g, []float32{1, 2}, nil)
	x := []float32{1, 2, 3, 4}
	dst := make([]float32, 4*2)
	conv.Forward(dst, x, 1, make([]float32, conv.WorkspaceLen(1)))
	fmt.Println(dst)
	// Output: [1 2 2 4 3 6 4 8]
}

func ExampleMaxPool() {
	p := kernels.PoolGeom{C: 1, H: 3, W: 3, KH: 2, KW: 2, StrideH: 2, StrideW: 2, CeilMode: true}
	x := []float32{1, 2, 3, 4, 5, 6, 7, 8, 9}
	dst := make([]float32, p.OutH()*p.OutW())
	kernels.MaxPool(dst, x, 1, p)
	fmt.Println(p.OutH(), p.OutW(), dst)
	// Output: 2 2 [5 6 8 9]
}

func ExampleDense() {
	// y = x·Wᵀ + b for a layer of 3 inputs and 2 outputs, with the weights
	// in PyTorch's Linear layout [out, in].
	w := []float32{
		1, 0, -1,
		0.5, 0.5, 0.5,
	}
	d := kernels.NewDense(3, 2, w, true, 1, []float32{0, 1})
	x := []float32{1, 2, 3, 4, 5, 6} // two rows
	y := make([]float32, 4)
	ws := make([]float32, d.WorkspaceLen(2)) // reuse across calls
	d.Forward(y, x, 2, ws)
	fmt.Println(y)
	// Output: [-2 4 -2 8.5]
}
