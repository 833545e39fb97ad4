package importer

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

// TestMatMulBroadcast checks MatMul against a float64 reference on batched
// operands whose batch dimensions broadcast (numpy rules, as ONNX's
// MatMul), with ragged m and n, k past a 256-deep block and 1-D operands.
func TestMatMulBroadcast(t *testing.T) {
	tests := []struct{ a, b []int }{
		{[]int{2, 1, 5, 7}, []int{3, 7, 9}},
		{[]int{4, 300}, []int{300, 33}},
		{[]int{3, 1, 17}, []int{17, 1}},
		{[]int{6}, []int{2, 6, 5}},
		{[]int{2, 3, 4}, []int{4}},
		{[]int{1, 65, 40}, []int{4, 40, 70}},
	}
	r := rand.New(rand.NewPCG(3, 4))
	for _, tc := range tests {
		t.Run(fmt.Sprintf("%v_x_%v", tc.a, tc.b), func(t *testing.T) {
			a, b := NewTensor(tc.a...), NewTensor(tc.b...)
			for i := range a.Data {
				a.Data[i] = float32(r.NormFloat64())
			}
			for i := range b.Data {
				b.Data[i] = float32(r.NormFloat64())
			}
			out, err := evalMatMul(&Node{Op: "MatMul"}, []*Tensor{a, b})
			if err != nil {
				t.Fatal(err)
			}
			want, scale := matmulRef(a, b)
			got := out[0]
			if fmt.Sprint(got.Shape) != fmt.Sprint(want.Shape) {
				t.Fatalf("shape %v, want %v", got.Shape, want.Shape)
			}
			for i, v := range got.Data {
				if d := math.Abs(float64(v) - want.Data[i]); !(d <= 1e-5*scale[i]) {
					t.Fatalf("out[%d] = %v, want %v (Σ|a·b| %v)", i, v, want.Data[i], scale[i])
				}
			}
		})
	}
}

// f64 is a float64 tensor of the reference.
type f64 struct {
	Shape []int
	Data  []float64
}

// matmulRef is numpy's matmul in float64 (1-D operands promoted and the
// added axis removed), with Σ|a·b| per output for the tolerance.
func matmulRef(a, b *Tensor) (f64, []float64) {
	as, bs := append([]int(nil), a.Shape...), append([]int(nil), b.Shape...)
	if len(as) == 1 {
		as = []int{1, as[0]}
	}
	if len(bs) == 1 {
		bs = []int{bs[0], 1}
	}
	m, k, n := as[len(as)-2], as[len(as)-1], bs[len(bs)-1]
	ab, bb := as[:len(as)-2], bs[:len(bs)-2]
	nd := max(len(ab), len(bb))
	batch := make([]int, nd)
	for i := range batch {
		da, db := 1, 1
		if j := i - (nd - len(ab)); j >= 0 {
			da = ab[j]
		}
		if j := i - (nd - len(bb)); j >= 0 {
			db = bb[j]
		}
		batch[i] = max(da, db)
	}
	nb := 1
	for _, d := range batch {
		nb *= d
	}
	// index of batch element i in an operand with batch dims dims.
	index := func(i int, dims []int) int {
		idx, stride := 0, 1
		for d := nd - 1; d >= 0; d-- {
			c := i % batch[d]
			i /= batch[d]
			if j := d - (nd - len(dims)); j >= 0 {
				if dims[j] > 1 {
					idx += c * stride
				}
				stride *= dims[j]
			}
		}
		return idx
	}
	out := f64{Data: make([]float64, nb*m*n)}
	scale := make([]float64, nb*m*n)
	for i := 0; i < nb; i++ {
		ia, ib := index(i, ab), index(i, bb)
		for r := 0; r < m; r++ {
			for c := 0; c < n; c++ {
				var s, sa float64
				for p := 0; p < k; p++ {
					x := float64(a.Data[ia*m*k+r*k+p]) * float64(b.Data[ib*k*n+p*n+c])
					s += x
					sa += math.Abs(x)
				}
				out.Data[(i*m+r)*n+c], scale[(i*m+r)*n+c] = s, sa
			}
		}
	}
	out.Shape = append(append([]int(nil), batch...), m, n)
	if len(a.Shape) == 1 {
		out.Shape = append(out.Shape[:len(out.Shape)-2], n)
	}
	if len(b.Shape) == 1 {
		out.Shape = out.Shape[:len(out.Shape)-1]
	}
	return out, scale
}

// TestPowSquare checks Pow's x² path against math.Pow bit for bit on
// random values, both zeros, subnormals, huge values, infinities and NaN.
func TestPowSquare(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	x := []float32{0, float32(math.Copysign(0, -1)), 1e-45, -3e-39, 1e19, -1e20, 3.4e38,
		float32(math.Inf(1)), float32(math.Inf(-1)), float32(math.NaN())}
	for range 1000 {
		x = append(x, float32(r.NormFloat64()*math.Pow(10, float64(r.IntN(30)-15))))
	}
	a := NewTensor(len(x))
	copy(a.Data, x)
	two := NewTensor(1)
	two.Data[0] = 2
	out, err := evalPow(&Node{Op: "Pow"}, []*Tensor{a, two})
	if err != nil {
		t.Fatal(err)
	}
	for i, v := range x {
		want := float32(math.Pow(float64(v), 2))
		if got := out[0].Data[i]; math.Float32bits(got) != math.Float32bits(want) && !(got != got && want != want) {
			t.Fatalf("%g²: %g, math.Pow %g", v, got, want)
		}
	}
}
