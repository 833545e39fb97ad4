package convert

import (
	"testing"

	"github.com/ann2snn/ann2snn/snnrt"
	"github.com/ann2snn/ann2snn/snnrt/nir"
)

func TestTargetNIR(t *testing.T) {
	x := []float32{0.3, 0.8, 0.65, 0.1, 1, 0.45}
	// The neuron flags below are what the target must override.
	m, err := Convert(tinyGraph(), x, 3, Options{T: 8, Target: TargetNIR, MaxSpikes: 3, PerChannel: true, Bias: BiasJoint})
	if err != nil {
		t.Fatal(err)
	}
	ifs := 0
	for _, l := range m.Layers {
		if l.Kind != snnrt.KindIF {
			continue
		}
		ifs++
		n := l.IF
		if n.Reset != snnrt.ResetToZero || n.V0 != nil || n.MaxSpikes != 1 || n.Signed || len(n.Theta) != 1 {
			t.Errorf("IF layer %s: %+v; want reset to zero, V0 nil, one unsigned spike, one θ", l.Name, n)
		}
	}
	if ifs == 0 {
		t.Fatal("no IF layer")
	}
	if got := m.Metadata[MetaTarget]; got != "nir" {
		t.Errorf("metadata %s = %q, want nir", MetaTarget, got)
	}
	if _, losses, err := nir.FromModel(m, nir.Options{Strict: true}); err != nil || len(losses) != 0 {
		t.Errorf("strict NIR export: losses %v, error %v; want none", losses, err)
	}
}

func TestParseTarget(t *testing.T) {
	for _, c := range []struct {
		s    string
		want Target
		ok   bool
	}{{"snnrt", TargetSnnrt, true}, {"nir", TargetNIR, true}, {"NIR", 0, false}, {"", 0, false}} {
		got, err := ParseTarget(c.s)
		if (err == nil) != c.ok || got != c.want {
			t.Errorf("ParseTarget(%q) = %v, %v", c.s, got, err)
		}
	}
}
