package convert

import (
	"math"
	"testing"

	"github.com/ann2snn/ann2snn/importer"
	"github.com/ann2snn/ann2snn/snnrt"
)

// unclipped sets every ReLU IF layer's threshold so high that the analog
// model's clip(x, 0, θ·M) is max(0, x): the analog model must then compute
// exactly the ANN. Clip and quantised activations keep their exact λ.
func unclipped(low *Lowered) {
	for _, nr := range low.Neurons {
		if nr.Act.Kind != ActReLU {
			continue
		}
		l := &low.Model.Layers[nr.Layer]
		for i := range l.IF.Theta {
			l.IF.Theta[i] = 1e30
		}
	}
}

// lowerAnalog folds, lowers and unclips a clone of g and returns the lowered
// model's analog output on x (n images).
func lowerAnalog(t *testing.T, g *importer.Graph, x []float32, n int) (*Lowered, []float32) {
	t.Helper()
	c := Clone(g)
	if err := FoldBatchNorm(c); err != nil {
		t.Fatal(err)
	}
	low, err := Lower(c)
	if err != nil {
		t.Fatal(err)
	}
	unclipped(low)
	got, err := low.Model.Analog(x, n)
	if err != nil {
		t.Fatal(err)
	}
	return low, got
}

// maxRelErr returns max|got−want| / max|want| (or the absolute error when
// want is all zero).
func maxRelErr(got, want []float32) float64 {
	var d, s float64
	for i := range want {
		d = max(d, math.Abs(float64(got[i])-float64(want[i])))
		s = max(s, math.Abs(float64(want[i])))
	}
	if s == 0 {
		return d
	}
	return d / s
}

// checkAnalogRef checks that g's lowered model, unclipped, computes g's
// reference output (importer.RunRef) on x to relative tol.
func checkAnalogRef(t *testing.T, g *importer.Graph, x *importer.Tensor, tol float64) *Lowered {
	t.Helper()
	env, err := g.RunRef(x)
	if err != nil {
		t.Fatal(err)
	}
	want := env[g.Outputs[0]].Data
	low, got := lowerAnalog(t, g, x.Data, x.Shape[0])
	if len(got) != len(want) {
		t.Fatalf("analog output has %d values, reference %d", len(got), len(want))
	}
	if e := maxRelErr(got, want); e > tol {
		t.Errorf("analog output differs from the reference by %.3g relative (tolerance %g)", e, tol)
	}
	return low
}

// countKinds returns how many layers of each kind m has.
func countKinds(m *snnrt.Model) map[snnrt.Kind]int {
	c := map[snnrt.Kind]int{}
	for _, l := range m.Layers {
		c[l.Kind]++
	}
	return c
}
