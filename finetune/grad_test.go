package finetune

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/ann2snn/ann2snn/snnrt"
)

// TestGradientsFiniteDifference checks the backward pass of every kernel
// against central finite differences of the loss. The spike function is
// replaced by the surrogate's smooth primitive (netOptions.smooth), so
// the surrogate gradient is the exact gradient of the forward pass.
func TestGradientsFiniteDifference(t *testing.T) {
	cases := []struct {
		name string
		m    *snnrt.Model
		opt  netOptions
	}{
		{"avgpool-mean", smallNet(t, 11, false, snnrt.IF{V0: []float32{0.3}}), netOptions{t: 3, surrogate: Sigmoid{4}}},
		{"maxpool-tet-rate", smallNet(t, 12, true, snnrt.IF{}), netOptions{t: 3, surrogate: Arctan{2}, loss: LossTET, rateReg: 0.5}},
		{"burst-triangle", smallNet(t, 13, false, snnrt.IF{MaxSpikes: 2}), netOptions{t: 2, surrogate: Triangle{1.5}}},
		{"zero-reset", smallNet(t, 14, false, snnrt.IF{Reset: snnrt.ResetToZero}), netOptions{t: 3, surrogate: Sigmoid{3}}},
		{"branchy", branchyNet(t, 15), netOptions{t: 2, surrogate: Sigmoid{3}, rateReg: 0.2}},
		{"signed-burst", smallNet(t, 16, false, snnrt.IF{Signed: true, MaxSpikes: 2, V0: []float32{0.5}}), netOptions{t: 4, surrogate: Sigmoid{3}}},
		{"signed-tet", smallNet(t, 17, true, snnrt.IF{Signed: true}), netOptions{t: 3, surrogate: Arctan{2}, loss: LossTET}},
		{"memreg", smallNet(t, 19, false, snnrt.IF{V0: []float32{0.4}}), netOptions{t: 3, surrogate: Sigmoid{3}, memReg: 0.7}},
		{"memreg-signed-burst-tet", smallNet(t, 20, false, snnrt.IF{Signed: true, MaxSpikes: 2}), netOptions{t: 2, surrogate: Arctan{2}, loss: LossTET, memReg: 0.5}},
		{"t1-signed", smallNet(t, 21, false, snnrt.IF{Signed: true, V0: []float32{0.5}}), netOptions{t: 1, surrogate: Sigmoid{3}, memReg: 0.3}},
		{"scaled", smallNet(t, 18, false, snnrt.IF{MaxSpikes: 2}), netOptions{t: 2, surrogate: Scaled{Sigmoid{4}, 1.5}}},
	}
	const n = 3
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			opt := tc.opt
			opt.n, opt.smooth = n, true
			nt, err := newNet(tc.m, opt)
			if err != nil {
				t.Fatal(err)
			}
			x := randImages(tc.m, n, 21)
			labels := []int{0, 2, 1}
			if _, _, err := nt.run(x, labels); err != nil {
				t.Fatal(err)
			}
			grads := make([][]float32, len(nt.params))
			for i, p := range nt.params {
				grads[i] = append([]float32(nil), nt.grad(p)...)
			}
			r := rand.New(rand.NewPCG(1, 2))
			loss := func() float64 {
				l, _, err := nt.run(x, labels)
				if err != nil {
					t.Fatal(err)
				}
				return float64(l)
			}
			checked := 0
			for i, p := range nt.params {
				for _, j := range pick(r, len(p.data), 5) {
					old := p.data[j]
					h := float32(1e-2) * max(1, abs32(old))
					p.data[j] = old + h
					lp := loss()
					p.data[j] = old - h
					lm := loss()
					p.data[j] = old
					fd := (lp - lm) / (2 * float64(h))
					got := float64(grads[i][j])
					if d := math.Abs(fd - got); d > 2e-3+3e-2*math.Abs(fd) {
						t.Errorf("%s[%d]: backward %.6g, finite difference %.6g", p.name(), j, got, fd)
					}
					if fd != 0 {
						checked++
					}
				}
			}
			if checked < len(nt.params) {
				t.Fatalf("only %d non-zero gradients checked", checked)
			}
		})
	}
}

// pick returns up to k distinct random indices of [0, n).
func pick(r *rand.Rand, n, k int) []int {
	if n <= k {
		idx := make([]int, n)
		for i := range idx {
			idx[i] = i
		}
		return idx
	}
	return r.Perm(n)[:k]
}

// TestSurrogateGradIsDerivativeOfPrimitive checks each surrogate's Grad
// against a central finite difference of its Primitive.
func TestSurrogateGradIsDerivativeOfPrimitive(t *testing.T) {
	for _, s := range []Surrogate{Rectangular{1}, Rectangular{0.5}, Sigmoid{4}, Sigmoid{1}, Arctan{2}, Arctan{5}, Triangle{1}, Triangle{0.3}, Scaled{Arctan{2}, 2}, Scaled{Triangle{1}, 0.5}} {
		t.Run(s.String(), func(t *testing.T) {
			const h = 1e-3
			for x := -3.0; x <= 3.0; x += 0.0173 {
				p0, p1 := float64(s.Primitive(float32(x-h))), float64(s.Primitive(float32(x+h)))
				fd := (p1 - p0) / (2 * h)
				g := float64(s.Grad(float32(x)))
				if s, ok := s.(Rectangular); ok && math.Abs(math.Abs(x)-float64(s.Width)/2) < 2*h {
					continue // kink of the ramp
				}
				if math.Abs(fd-g) > 1e-2*max(1, math.Abs(g)) {
					t.Fatalf("x=%.4f: Grad %.6g, finite difference of Primitive %.6g", x, g, fd)
				}
			}
			if lo, hi := s.Primitive(-50), s.Primitive(50); lo > 1e-2 || hi < 1-1e-2 {
				t.Fatalf("Primitive(−50) = %v, Primitive(50) = %v, want ≈ 0 and 1", lo, hi)
			}
		})
	}
}

func TestParseSurrogate(t *testing.T) {
	for _, tc := range []struct {
		in, want string
		err      bool
	}{
		{"atan", "atan:2", false},
		{"atan:3.5", "atan:3.5", false},
		{"sigmoid", "sigmoid:4", false},
		{"rect:0.5", "rect:0.5", false},
		{"triangle", "triangle:1", false},
		{"relu", "", true},
		{"atan:-1", "", true},
		{"atan:x", "", true},
	} {
		s, err := ParseSurrogate(tc.in)
		if (err != nil) != tc.err {
			t.Fatalf("ParseSurrogate(%q) error %v, want error %v", tc.in, err, tc.err)
		}
		if err == nil && s.String() != tc.want {
			t.Fatalf("ParseSurrogate(%q) = %v, want %s", tc.in, s, tc.want)
		}
	}
}
