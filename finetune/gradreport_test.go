package finetune

import (
	"context"
	"math"
	"reflect"
	"runtime"
	"testing"

	"github.com/ann2snn/ann2snn/snnrt"
)

// smoothTrainer returns a Trainer on toy data whose network uses the
// surrogate's smooth primitive instead of the step (netOptions.smooth):
// its surrogate gradient is then the exact gradient of its loss.
func smoothTrainer(t *testing.T, m *snnrt.Model, cfg Config) *Trainer {
	t.Helper()
	tr, err := New(m, toyData(t, 64, 5), toyPre, cfg)
	if err != nil {
		t.Fatal(err)
	}
	if tr.net, err = newNet(m, netOptions{t: cfg.T, n: cfg.Batch, surrogate: cfg.surrogate(), loss: cfg.Loss,
		rateReg: cfg.RateReg, memReg: cfg.MemReg, smooth: true}); err != nil {
		t.Fatal(err)
	}
	return tr
}

// TestGradReportSmoothIsExact checks the report's finite-difference
// reference against an exact gradient: on a smooth network the surrogate
// gradient is the gradient, so every probe must have cosine ≈ 1 and size
// ratio ≈ 1.
func TestGradReportSmoothIsExact(t *testing.T) {
	cases := []struct {
		name string
		m    *snnrt.Model
		cfg  Config
	}{
		{"avgpool-mean", smallNet(t, 41, false, snnrt.IF{V0: []float32{0.3}}), Config{T: 2, Surrogate: Sigmoid{3}}},
		{"maxpool-tet-burst", smallNet(t, 42, true, snnrt.IF{MaxSpikes: 2}), Config{T: 3, Surrogate: Arctan{2}, Loss: LossTET}},
		{"t1", smallNet(t, 46, false, snnrt.IF{V0: []float32{0.5}}), Config{T: 1, Surrogate: Arctan{2}, MemReg: 0.2}},
		{"signed-rate", smallNet(t, 43, false, snnrt.IF{Signed: true}), Config{T: 2, Surrogate: Sigmoid{2}, RateReg: 0.3, MemReg: 0.5}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			tc.cfg.Batch = 8
			tr := smoothTrainer(t, tc.m, tc.cfg)
			rep, err := tr.GradReport(context.Background(), ReportConfig{Directions: 6, Epsilon: 0.01, Images: 16, Seed: 7, Weights: true})
			if err != nil {
				t.Fatal(err)
			}
			// Two IF layers × T steps, and three weight tensors.
			if want := 2*tc.cfg.T + 3; len(rep.Probes) != want {
				t.Fatalf("%d probes, want %d", len(rep.Probes), want)
			}
			for _, p := range rep.Probes {
				if p.Norm == 0 || p.Cosine < 0.99 || math.Abs(p.Ratio-1) > 0.05 {
					t.Errorf("%s %s step %d: norm %.3g cosine %.4f ratio %.4f, want norm > 0, cosine ≈ 1, ratio ≈ 1",
						p.Name, p.What, p.Step, p.Norm, p.Cosine, p.Ratio)
				}
			}
		})
	}
}

// TestChooseWidthsSmooth: on a smooth network the reference is the
// gradient of the nominal width's primitive, so AutoWidth must keep every
// layer at factor 1.
func TestChooseWidthsSmooth(t *testing.T) {
	tr := smoothTrainer(t, smallNet(t, 44, false, snnrt.IF{}), Config{T: 2, Batch: 8, Surrogate: Arctan{2}, AutoWidth: true})
	w, err := tr.chooseWidths(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(w) != 2 {
		t.Fatalf("widths %v, want two IF layers", w)
	}
	for l, f := range w {
		if f != 1 {
			t.Errorf("layer %d: width factor %v, want 1", l, f)
		}
	}
}

// TestGradReportDeterministic: the same seed gives the same report,
// whatever GOMAXPROCS.
func TestGradReportDeterministic(t *testing.T) {
	m := smallNet(t, 45, true, snnrt.IF{MaxSpikes: 2})
	ds := toyData(t, 64, 6)
	report := func(procs int) *GradReport {
		defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(procs))
		tr, err := New(m, ds, toyPre, Config{T: 2, Batch: 16, Seed: 2})
		if err != nil {
			t.Fatal(err)
		}
		rep, err := tr.GradReport(context.Background(), ReportConfig{Directions: 4, Seed: 9, Weights: true})
		if err != nil {
			t.Fatal(err)
		}
		return rep
	}
	a, b := report(1), report(4)
	if !reflect.DeepEqual(a, b) {
		t.Fatalf("reports differ:\n%+v\n%+v", a, b)
	}
	// GradReports shares one reference among surrogates: each of its
	// reports equals the report of a Trainer with that surrogate.
	tr, err := New(m, ds, toyPre, Config{T: 2, Batch: 16, Seed: 2})
	if err != nil {
		t.Fatal(err)
	}
	reps, err := tr.GradReports(context.Background(), ReportConfig{Directions: 4, Seed: 9, Weights: true}, []Surrogate{Rectangular{0.5}, Arctan{2}})
	if err != nil {
		t.Fatal(err)
	}
	tr2, err := New(m, ds, toyPre, Config{T: 2, Batch: 16, Seed: 2, Surrogate: Rectangular{0.5}})
	if err != nil {
		t.Fatal(err)
	}
	rect, err := tr2.GradReport(context.Background(), ReportConfig{Directions: 4, Seed: 9, Weights: true})
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(reps[0], rect) || !reflect.DeepEqual(reps[1], a) {
		t.Fatalf("GradReports differs from single reports:\n%+v\n%+v\n%+v\n%+v", reps[0], rect, reps[1], a)
	}
	if a.Images != 16 || a.Directions != 4 || a.Epsilon != float64(float32(0.2)) {
		t.Fatalf("report settings %d images, %d directions, ε %v; want 16, 4, 0.2", a.Images, a.Directions, a.Epsilon)
	}
}

func TestAnnealFactor(t *testing.T) {
	for _, tc := range []struct {
		a0       float32
		s, total int
		want     float64
	}{
		{4, 0, 11, 4},     // first step: A0
		{4, 10, 11, 1},    // last step: 1
		{4, 5, 11, 2.5},   // half way: cos(π/2) = 0 → 1 + 3/2
		{3, 2, 5, 2},      // p = 1/2 → 1 + 2/2
		{3, 1, 5, 2.7071}, // p = 1/4 → 1 + (1 + √2/2)
		{0, 3, 5, 1},      // off
		{1, 3, 5, 1},      // off
	} {
		if got := annealFactor(tc.a0, tc.s, tc.total); math.Abs(float64(got)-tc.want) > 1e-4 {
			t.Errorf("annealFactor(%v, %d, %d) = %v, want %v", tc.a0, tc.s, tc.total, got, tc.want)
		}
	}
}

// TestWiden checks Widen(s, a).Grad(x) = s.Grad(x/a)/a and
// Widen(s, a).Primitive(x) = s.Primitive(x/a) for the built-in surrogates
// (rescaled in their own parameter) and another one (wrapped in Scaled).
func TestWiden(t *testing.T) {
	type other struct{ Sigmoid } // not a built-in type
	for _, s := range []Surrogate{Rectangular{1}, Sigmoid{4}, Arctan{2}, Triangle{0.5}, other{Sigmoid{2}}} {
		for _, a := range []float32{0.25, 1, 3} {
			w := Widen(s, a)
			for x := float32(-2); x <= 2; x += 0.0371 {
				if r, ok := s.(Rectangular); ok && math.Abs(math.Abs(float64(x/a))-float64(r.Width)/2) < 1e-3 {
					continue // the box's edge
				}
				g, wg := s.Grad(x/a)/a, w.Grad(x)
				p, wp := s.Primitive(x/a), w.Primitive(x)
				if math.Abs(float64(g-wg)) > 1e-5*max(1, float64(g)) || math.Abs(float64(p-wp)) > 1e-5 {
					t.Fatalf("%v widened %v at %v: Grad %v Primitive %v, want %v and %v", s, a, x, wg, wp, g, p)
				}
			}
		}
	}
}
