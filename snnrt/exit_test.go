package snnrt

import (
	"bytes"
	"math"
	"math/rand/v2"
	"runtime"
	"slices"
	"sort"
	"strings"
	"testing"
)

func TestExitPolicyValue(t *testing.T) {
	e := math.Exp
	for _, tc := range []struct {
		name string
		p    ExitPolicy
		a    []float32
		t    int
		want float64
	}{
		{"margin", ExitPolicy{Signal: ExitMargin}, []float32{3, 1, 2}, 2, 0.5},
		{"margin tie", ExitPolicy{Signal: ExitMargin}, []float32{2, 2, -1}, 1, 0},
		{"margin first largest", ExitPolicy{Signal: ExitMargin}, []float32{-4, -1, -3}, 4, 0.5},
		{"margin one class", ExitPolicy{Signal: ExitMargin}, []float32{-7}, 3, math.Inf(1)},
		{"confidence", ExitPolicy{Signal: ExitConfidence}, []float32{3, 1, 2}, 2, 1 / (1 + e(-1) + e(-0.5))},
		{"confidence uniform", ExitPolicy{Signal: ExitConfidence}, []float32{5, 5, 5, 5}, 7, 0.25},
		{"confidence t=1", ExitPolicy{Signal: ExitConfidence}, []float32{0, 2}, 1, 1 / (1 + e(-2))},
		{"none", ExitPolicy{}, []float32{0, 2}, 1, 0},
	} {
		if got := tc.p.Value(tc.a, tc.t); math.Abs(got-tc.want) > 1e-12 && got != tc.want {
			t.Errorf("%s: Value(%v, %d) = %v, want %v", tc.name, tc.a, tc.t, got, tc.want)
		}
	}
}

func TestParseExitPolicy(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want ExitPolicy
		err  string
	}{
		{in: "margin:0.75", want: ExitPolicy{Signal: ExitMargin, Threshold: 0.75}},
		{in: "confidence:0.9,min=2,stable=3", want: ExitPolicy{Signal: ExitConfidence, Threshold: 0.9, MinT: 2, Stable: 3}},
		{in: "none,stable=2", want: ExitPolicy{Stable: 2}},
		{in: "margin:1.5,min=2,patience=3", want: ExitPolicy{Signal: ExitMargin, Threshold: 1.5, MinT: 2, Patience: 3}},
		{in: "margin:1,patience=1", err: "patience 1"},
		{in: "margin:1,patience=-2", err: "patience -2"},
		{in: "margin", err: "needs a threshold"},
		{in: "confidence:1.5", err: "want (0, 1]"},
		{in: "margin:-1", err: "≥ 0"},
		{in: "margin:NaN", err: "finite"},
		{in: "none:1", err: "no threshold"},
		{in: "entropy:1", err: "unknown signal"},
		{in: "margin:1,wait=2", err: "unknown option"},
		{in: "margin:1,min=x", err: "bad option"},
		{in: "margin:1,min=-1", err: "want 0.."},
	} {
		got, err := ParseExitPolicy(tc.in)
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("%q: error %v, want one containing %q", tc.in, err, tc.err)
			}
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("%q: %+v, %v; want %+v", tc.in, got, err, tc.want)
			continue
		}
		if back, err := ParseExitPolicy(got.String()); err != nil || back != got {
			t.Errorf("%q: String %q parses to %+v, %v", tc.in, got.String(), back, err)
		}
	}
}

// TestExitPolicySteps checks the exit rule on hand-made accumulated
// outputs of one image (two classes, T = 5).
func TestExitPolicySteps(t *testing.T) {
	// Accumulated outputs after steps 1..5: arg-max 0, 1, 1, 1, 1;
	// margins (a₁−a₂)/t: 1, 0.5, 1, 1.5, 2.
	acc := [][]float32{{1, 0}, {1, 2}, {1, 4}, {1, 7}, {1, 11}}
	r := &Result{N: 1, T: 5, Classes: 2}
	for _, a := range acc {
		r.acc = append(r.acc, a...)
	}
	for _, tc := range []struct {
		p    ExitPolicy
		want int
	}{
		{ExitPolicy{}, 1},
		{ExitPolicy{Signal: ExitMargin, Threshold: 1}, 1},
		{ExitPolicy{Signal: ExitMargin, Threshold: 1, MinT: 2}, 3},
		{ExitPolicy{Signal: ExitMargin, Threshold: 1.2}, 4},
		{ExitPolicy{Signal: ExitMargin, Threshold: 3}, 5}, // never: the cap
		{ExitPolicy{Stable: 2}, 3},
		{ExitPolicy{Stable: 4}, 5},
		{ExitPolicy{Stable: 5}, 5},
		{ExitPolicy{Signal: ExitMargin, Threshold: 0.5, Stable: 3}, 4},
		// softmax of a/t at t=2: 1/(1+e^-0.5) = 0.622; t=3: 1/(1+e^-1) = 0.731.
		{ExitPolicy{Signal: ExitConfidence, Threshold: 0.7, MinT: 2}, 3},
		// Patience: the arg-max is 1 from step 2 on, so it has held for 2
		// steps after step 3 and for 3 after step 4.
		{ExitPolicy{Signal: ExitMargin, Threshold: 3, Patience: 2}, 3},
		{ExitPolicy{Signal: ExitMargin, Threshold: 3, Patience: 3}, 4},
		{ExitPolicy{Signal: ExitMargin, Threshold: 3, Patience: 2, MinT: 4}, 4},
		{ExitPolicy{Signal: ExitMargin, Threshold: 1.2, Patience: 4}, 4}, // the signal first
		{ExitPolicy{Signal: ExitMargin, Threshold: 1, Patience: 3}, 1},
		{ExitPolicy{Signal: ExitMargin, Threshold: 3, Patience: 5}, 5}, // the cap
	} {
		if got := tc.p.Steps(r); got[0] != tc.want {
			t.Errorf("%v: exits after step %d, want %d", tc.p, got[0], tc.want)
		}
	}
}

// medianMargin returns a margin threshold that lets about half of the
// images of the fixed-T run r exit at step t.
func medianMargin(r *Result, t int) float64 {
	p := ExitPolicy{Signal: ExitMargin}
	l := r.Logits(t)
	v := make([]float64, r.N)
	for i := range v {
		v[i] = p.Value(l[i*r.Classes:(i+1)*r.Classes], t)
	}
	sort.Float64s(v)
	return v[r.N/2]
}

// TestSimulatorExit checks adaptive runs against their definition
// (ExitPolicy.Steps on a fixed-T run): the same exit steps, every image's
// logits those of the fixed run up to its exit step and frozen after, and
// the SOPs, MACs and spikes those of simulating each image alone for its
// own number of steps; bit-identical whatever the workers and chunks.
func TestSimulatorExit(t *testing.T) {
	const n, T = 9, 6
	r := rand.New(rand.NewPCG(19, 1))
	for _, tc := range simNets(t) {
		for _, enc := range []Encoding{Direct, Poisson} {
			x := randVec(r, n*tc.m.Input.Len(), -0.2, 1.2)
			base := Config{T: T, Encoding: enc, Seed: 3}
			fixedSim, err := NewSimulator(tc.m, base)
			if err != nil {
				t.Fatal(err)
			}
			fixed, err := fixedSim.Run(x, n)
			if err != nil {
				t.Fatal(err)
			}
			policies := []ExitPolicy{
				{Signal: ExitMargin, Threshold: medianMargin(fixed, 2), MinT: 2},
				{Stable: 3},
				{Signal: ExitConfidence, Threshold: 0.6},
				{Signal: ExitMargin, Threshold: 2 * medianMargin(fixed, 2), Patience: 2},
			}
			for _, p := range policies {
				want := p.Steps(fixed)
				if slices.Min(want) == T {
					continue // nothing exits: no test
				}
				var first *Result
				for _, st := range []struct{ procs, workers, chunk int }{{1, 1, 0}, {2, 0, 2}, {1, 3, 4}, {2, 2, 1}} {
					old := runtime.GOMAXPROCS(st.procs)
					cfg := base
					cfg.Workers, cfg.Chunk, cfg.Exit = st.workers, st.chunk, &p
					sim, err := NewSimulator(tc.m, cfg)
					if err != nil {
						runtime.GOMAXPROCS(old)
						t.Fatal(err)
					}
					got, err := sim.Run(x, n)
					runtime.GOMAXPROCS(old)
					if err != nil {
						t.Fatal(err)
					}
					if !slices.Equal(got.Steps, want) {
						t.Fatalf("%s %v %v: steps %v, want %v", tc.name, enc, p, got.Steps, want)
					}
					for tt := 1; tt <= T; tt++ {
						for i := range n {
							s := min(tt, want[i])
							a := got.Logits(tt)[i*got.Classes : (i+1)*got.Classes]
							b := fixed.Logits(s)[i*got.Classes : (i+1)*got.Classes]
							if !slices.Equal(a, b) {
								t.Fatalf("%s %v %v %+v: image %d logits(%d) %v, want the fixed run's at step %d %v", tc.name, enc, p, st, i, tt, a, s, b)
							}
						}
					}
					if first == nil {
						first = got
						continue
					}
					if !slices.Equal(first.Layers, got.Layers) || !slices.Equal(first.stepSOPs, got.stepSOPs) || !slices.Equal(first.stepMACs, got.stepMACs) || first.Input != got.Input {
						t.Fatalf("%s %v %v %+v: statistics depend on workers and chunks", tc.name, enc, p, st)
					}
				}
				if enc == Poisson {
					continue // an image alone would get another random stream
				}
				// The cost of the adaptive run is the sum of each image's
				// own fixed run of its exit steps.
				var sops, macs int64
				layers := make([]LayerStats, len(tc.m.Layers))
				per := tc.m.Input.Len()
				for i, s := range want {
					cfg := base
					cfg.T = s
					one, err := Run(tc.m, x[i*per:(i+1)*per], 1, cfg)
					if err != nil {
						t.Fatal(err)
					}
					sops += one.SOPs(s)
					macs += one.MACs(s)
					for j := range layers {
						layers[j].add(one.Layers[j])
					}
				}
				if first.SOPs(T) != sops || first.MACs(T) != macs {
					t.Fatalf("%s %v: adaptive SOPs %d, MACs %d; the images alone %d, %d", tc.name, p, first.SOPs(T), first.MACs(T), sops, macs)
				}
				for j := range layers {
					if layers[j].Spikes != first.Layers[j].Spikes {
						t.Fatalf("%s %v: layer %d spikes %d, the images alone %d", tc.name, p, j, first.Layers[j].Spikes, layers[j].Spikes)
					}
				}
			}
		}
	}
}

// TestSimulatorExitAllocs checks that an adaptive chunk allocates nothing.
func TestSimulatorExitAllocs(t *testing.T) {
	m := branchyNet(t, 2)
	const n = 6
	x := randVec(rand.New(rand.NewPCG(1, 2)), n*m.Input.Len(), 0, 1)
	for _, cfg := range []Config{{T: 5}, {T: 5, Encoding: Poisson}, {T: 5, Dense: true}} {
		cfg.Chunk, cfg.Exit = n, &ExitPolicy{Stable: 2}
		sim, err := NewSimulator(m, cfg)
		if err != nil {
			t.Fatal(err)
		}
		res, err := sim.Run(x, n) // creates the worker
		if err != nil {
			t.Fatal(err)
		}
		if res.MeanSteps() >= 5 {
			t.Fatalf("%+v: no image exited (mean steps %v)", cfg, res.MeanSteps())
		}
		w := sim.workers[0]
		r := newResult(m, n, cfg.T)
		r.Steps = make([]int, n)
		if a := testing.AllocsPerRun(5, func() { w.simulate(r, x, 0, n) }); a != 0 {
			t.Errorf("%+v: adaptive simulate allocates %v times", cfg, a)
		}
	}
}

func TestExitErrors(t *testing.T) {
	m := smallNet(t, 1, false, IF{})
	x := make([]float32, m.Input.Len())
	p := &ExitPolicy{Signal: ExitMargin, Threshold: 1}
	if _, err := Run(m, x, 1, Config{T: 2, Exit: p}); err == nil {
		t.Error("Run with an exit policy: no error")
	}
	if _, err := NewSimulator(m, Config{T: 2, Exit: p, Observe: func(int, int, int, int, []float32) {}}); err == nil {
		t.Error("Observe with an exit policy: no error")
	}
	if _, err := NewSimulator(m, Config{T: 2, Exit: &ExitPolicy{Signal: ExitConfidence, Threshold: 2}}); err == nil {
		t.Error("confidence threshold 2: no error")
	}
}

// TestExitMetadata checks that a recorded exit policy survives a file
// round trip and that a malformed one is refused as a malformed file.
func TestExitMetadata(t *testing.T) {
	for _, tc := range []struct {
		meta map[string]string
		ok   bool
		want ExitPolicy
		maxT int
	}{
		{map[string]string{}, true, ExitPolicy{}, 0},
		{map[string]string{MetaExitPolicy: "margin:2.5,min=2", MetaExitMaxT: "32"}, true, ExitPolicy{Signal: ExitMargin, Threshold: 2.5, MinT: 2}, 32},
		{map[string]string{MetaExitPolicy: "margin"}, false, ExitPolicy{}, 0},
		{map[string]string{MetaExitPolicy: "none,stable=2", MetaExitMaxT: "0"}, false, ExitPolicy{}, 0},
	} {
		m := smallNet(t, 1, false, IF{})
		m.Metadata = tc.meta
		var buf bytes.Buffer
		_, err := m.WriteTo(&buf)
		if !tc.ok {
			if err == nil {
				t.Errorf("%v: written without error", tc.meta)
			}
			continue
		}
		if err != nil {
			t.Fatalf("%v: write: %v", tc.meta, err)
		}
		got, err := ReadModel(bytes.NewReader(buf.Bytes()), int64(buf.Len()))
		if err != nil {
			t.Fatalf("%v: read: %v", tc.meta, err)
		}
		p, maxT, _, err := RecordedExit(got.Metadata)
		if err != nil || p != tc.want || maxT != tc.maxT {
			t.Errorf("%v: recorded %+v, %d, %v; want %+v, %d", tc.meta, p, maxT, err, tc.want, tc.maxT)
		}
	}
}
