package snnrt

import (
	"math"
	"math/rand/v2"
	"runtime"
	"slices"
	"testing"

	"github.com/ann2snn/ann2snn/internal/kernels"
)

// TestRateApproachesAnalog checks that, over many steps, the SNN's mean
// output and its first IF layer's rate·θ approach the analog (clipped) ANN.
func TestRateApproachesAnalog(t *testing.T) {
	tests := []struct {
		name    string
		maxPool bool
		n       IF
		tol     float64
	}{
		{"avgpool", false, IF{}, 0.02},
		{"maxpool", true, IF{}, 0.02},
		{"avgpool shifted", false, IF{V0: []float32{0.5}}, 0.02},
		{"burst", false, IF{MaxSpikes: 2}, 0.02},
		{"signed", true, IF{Signed: true, V0: []float32{0.5}}, 0.02},
	}
	const n, T = 3, 1000
	r := rand.New(rand.NewPCG(7, 7))
	x := randVec(r, n*2*8*8, 0, 1)
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m := smallNet(t, 3, tc.maxPool, tc.n)
			if len(tc.n.V0) == 1 { // V0 is absolute: scale the shift by θ per layer
				for i := range m.Layers {
					if l := &m.Layers[i]; l.Kind == KindIF {
						l.IF.V0 = nil
						for _, th := range l.IF.Theta {
							l.IF.V0 = append(l.IF.V0, th/2)
						}
					}
				}
			}
			ana, err := m.AnalogLayers(x, n)
			if err != nil {
				t.Fatal(err)
			}
			sum := make([]float64, len(ana[1]))
			cfg := Config{T: T, Observe: func(layer, _, first, nimg int, out []float32) {
				if layer == 1 {
					per := len(out) / nimg
					for j, v := range out {
						sum[first*per+j] += float64(v)
					}
				}
			}}
			res, err := Run(m, x, n, cfg)
			if err != nil {
				t.Fatal(err)
			}
			var active int
			for j, a := range ana[1] {
				if d := math.Abs(sum[j]/T - float64(a)); d > tc.tol {
					t.Fatalf("IF1 element %d: rate·θ = %v, analog %v", j, sum[j]/T, a)
				}
				if a > 0 {
					active++
				}
			}
			if active < len(ana[1])/4 {
				t.Fatalf("only %d of %d first-layer neurons active: test is vacuous", active, len(ana[1]))
			}
			out := ana[m.Output]
			for j, v := range res.Logits(T) {
				if d := math.Abs(float64(v)/T - float64(out[j])); d > 5*tc.tol {
					t.Fatalf("output %d: SNN mean %v, analog %v", j, float64(v)/T, out[j])
				}
			}
			if got, want := res.Predictions(T), argmaxRows(out, res.Classes); !slices.Equal(got, want) {
				t.Fatalf("predictions %v, analog %v", got, want)
			}
			if rt := res.Rate(1); rt <= 0 || rt > 1 {
				t.Fatalf("rate of IF1 = %v", rt)
			}
		})
	}
}

func argmaxRows(v []float32, c int) []int {
	var p []int
	for i := 0; i+c <= len(v); i += c {
		best := 0
		for j := range c {
			if v[i+j] > v[i+best] {
				best = j
			}
		}
		p = append(p, best)
	}
	return p
}

// TestSOPs counts synaptic operations on hand-countable networks: one
// image, Direct input, T steps, inputs chosen so that the IF layer fires at
// fixed positions every step (θ = 1, x = 1 there, 0 elsewhere).
func TestSOPs(t *testing.T) {
	const T = 3
	tests := []struct {
		name     string
		build    func(m *Model)
		input    Shape
		hot      []int // input positions set to 1
		sops     int64 // total over T steps
		macs     int64
		ifLayer  int
		ifSpikes int64
	}{
		{
			// 3x3 conv, pad 1, K=2: centre drives 9·2 weights, a corner 4·2.
			name:  "conv borders",
			input: Shape{1, 3, 3},
			build: func(m *Model) {
				i := m.MustAppend(Layer{Kind: KindIF, Inputs: []int{-1}, IF: IF{Theta: []float32{1}}})
				m.MustAppend(Layer{Kind: KindConv, Inputs: []int{i}, W: make([]float32, 18),
					Conv: kernels.ConvGeom{C: 1, H: 3, W: 3, K: 2, KH: 3, KW: 3, PadT: 1, PadL: 1, PadB: 1, PadR: 1}})
			},
			hot: []int{4, 0}, sops: T * (18 + 8), ifLayer: 0, ifSpikes: 2 * T,
		},
		{
			// 3x3 conv stride 2 on 5x5: row/col 2 is read by 2 windows.
			name:  "conv stride",
			input: Shape{1, 5, 5},
			build: func(m *Model) {
				i := m.MustAppend(Layer{Kind: KindIF, Inputs: []int{-1}, IF: IF{Theta: []float32{1}}})
				m.MustAppend(Layer{Kind: KindConv, Inputs: []int{i}, W: make([]float32, 27),
					Conv: kernels.ConvGeom{C: 1, H: 5, W: 5, K: 3, KH: 3, KW: 3, StrideH: 2, StrideW: 2}})
			},
			hot: []int{12, 2, 0}, sops: T * 3 * (4 + 2 + 1), ifLayer: 0, ifSpikes: 3 * T,
		},
		{
			// analog input → 1x1 conv K=3 (MACs 4·3 per step) → IF → linear 4.
			name:  "input MACs and linear",
			input: Shape{1, 2, 2},
			build: func(m *Model) {
				c := m.MustAppend(Layer{Kind: KindConv, Inputs: []int{-1}, W: []float32{1, 1, 1},
					Conv: kernels.ConvGeom{C: 1, H: 2, W: 2, K: 3, KH: 1, KW: 1}})
				i := m.MustAppend(Layer{Kind: KindIF, Inputs: []int{c}, IF: IF{Theta: []float32{1}}})
				m.MustAppend(Layer{Kind: KindLinear, Inputs: []int{i}, W: make([]float32, 4*12)})
			},
			hot: []int{1}, sops: T * 3 * 4, macs: T * 12, ifLayer: 1, ifSpikes: 3 * T,
		},
		{
			// spikes routed through avg pool 2x2 and flatten into linear 5.
			name:  "routing through avgpool",
			input: Shape{1, 2, 2},
			build: func(m *Model) {
				i := m.MustAppend(Layer{Kind: KindIF, Inputs: []int{-1}, IF: IF{Theta: []float32{1}}})
				p := m.MustAppend(Layer{Kind: KindAvgPool, Inputs: []int{i}, Pool: PoolGeom{C: 1, H: 2, W: 2, KH: 2, KW: 2}})
				f := m.MustAppend(Layer{Kind: KindFlatten, Inputs: []int{p}})
				m.MustAppend(Layer{Kind: KindLinear, Inputs: []int{f}, W: make([]float32, 5)})
			},
			hot: []int{0, 3}, sops: T * 2 * 5, ifLayer: 0, ifSpikes: 2 * T,
		},
		{
			// one spike feeds both operands of an add and a concat branch.
			name:  "add and concat fan-out",
			input: Shape{1, 1, 1},
			build: func(m *Model) {
				i := m.MustAppend(Layer{Kind: KindIF, Inputs: []int{-1}, IF: IF{Theta: []float32{1}}})
				a := m.MustAppend(Layer{Kind: KindAdd, Inputs: []int{i, i}})
				c := m.MustAppend(Layer{Kind: KindConcat, Inputs: []int{a, i}})
				m.MustAppend(Layer{Kind: KindLinear, Inputs: []int{c}, W: make([]float32, 7*2)})
			},
			hot: []int{0}, sops: T * (2*7 + 7), ifLayer: 0, ifSpikes: T,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m := &Model{Input: tc.input}
			tc.build(m)
			x := make([]float32, tc.input.Len())
			for _, h := range tc.hot {
				x[h] = 1
			}
			res, err := Run(m, x, 1, Config{T: T})
			if err != nil {
				t.Fatal(err)
			}
			if got := res.SOPs(T); got != tc.sops {
				t.Errorf("SOPs = %d, want %d", got, tc.sops)
			}
			if got := res.MACs(T); got != tc.macs {
				t.Errorf("MACs = %d, want %d", got, tc.macs)
			}
			if got := res.Layers[tc.ifLayer].Spikes; got != tc.ifSpikes {
				t.Errorf("spikes = %d, want %d", got, tc.ifSpikes)
			}
			if got := res.SOPs(1); got != tc.sops/T {
				t.Errorf("SOPs(1) = %d, want %d", got, tc.sops/T)
			}
		})
	}
}

// TestDeterminism runs the same batch under several GOMAXPROCS, worker and
// chunk settings and requires bit-identical results.
func TestDeterminism(t *testing.T) {
	m := branchyNet(t, 5)
	const n, T = 7, 6
	r := rand.New(rand.NewPCG(9, 9))
	x := randVec(r, n*m.Input.Len(), -0.2, 1.2)
	for _, enc := range []Encoding{Direct, Poisson} {
		var ref *Result
		for _, setting := range []struct{ procs, workers, chunk int }{
			{1, 0, 0}, {2, 0, 0}, {2, 0, 1}, {1, 3, 2}, {2, 4, 3},
		} {
			old := runtime.GOMAXPROCS(setting.procs)
			res, err := Run(m, x, n, Config{T: T, Encoding: enc, Seed: 42, Workers: setting.workers, Chunk: setting.chunk})
			runtime.GOMAXPROCS(old)
			if err != nil {
				t.Fatal(err)
			}
			if ref == nil {
				ref = res
				if res.SOPs(T) == 0 || res.Layers[1].Spikes == 0 {
					t.Fatalf("%v: no activity, test is vacuous", enc)
				}
				continue
			}
			for tt := 1; tt <= T; tt++ {
				a, b := ref.Logits(tt), res.Logits(tt)
				for j := range a {
					if math.Float32bits(a[j]) != math.Float32bits(b[j]) {
						t.Fatalf("%v %+v: logits(%d)[%d] = %v, want %v", enc, setting, tt, j, b[j], a[j])
					}
				}
				if ref.SOPs(tt) != res.SOPs(tt) || ref.MACs(tt) != res.MACs(tt) {
					t.Fatalf("%v %+v: operation counts differ", enc, setting)
				}
			}
			if !slices.Equal(ref.Layers, res.Layers) || ref.Input != res.Input {
				t.Fatalf("%v %+v: layer stats differ:\n%v\n%v", enc, setting, ref.Layers, res.Layers)
			}
		}
	}
	// A sub-batch gives the same per-image outputs (Direct encoding).
	full, err := Run(m, x, n, Config{T: T})
	if err != nil {
		t.Fatal(err)
	}
	per := m.Input.Len()
	sub, err := Run(m, x[2*per:5*per], 3, Config{T: T})
	if err != nil {
		t.Fatal(err)
	}
	c := full.Classes
	if !slices.Equal(full.Logits(T)[2*c:5*c], sub.Logits(T)) {
		t.Fatal("sub-batch logits differ from full batch")
	}
}

// TestPoissonEncoding checks the input rate of the Poisson encoder.
func TestPoissonEncoding(t *testing.T) {
	m := &Model{Input: Shape{4, 1, 1}}
	m.MustAppend(Layer{Kind: KindFlatten, Inputs: []int{-1}})
	x := []float32{0, 0.25, -0.5, 2}
	const T = 4000
	res, err := Run(m, x, 1, Config{T: T, Encoding: Poisson, Seed: 3})
	if err != nil {
		t.Fatal(err)
	}
	want := []float64{0, 0.25, -0.5, 1}
	for j, v := range res.Logits(T) {
		if math.Abs(float64(v)/T-want[j]) > 0.03 {
			t.Errorf("input %d: mean %v, want %v", j, float64(v)/T, want[j])
		}
	}
}

func TestRunErrors(t *testing.T) {
	m := smallNet(t, 1, false, IF{})
	x := make([]float32, 2*m.Input.Len())
	nan := slices.Clone(x)
	nan[5] = float32(math.NaN())
	tests := []struct {
		name string
		x    []float32
		n    int
		cfg  Config
	}{
		{"zero T", x, 2, Config{}},
		{"short input", x[1:], 2, Config{T: 1}},
		{"NaN input", nan, 2, Config{T: 1}},
		{"bad encoding", x, 2, Config{T: 1, Encoding: 9}},
	}
	for _, tc := range tests {
		if _, err := Run(m, tc.x, tc.n, tc.cfg); err == nil {
			t.Errorf("%s: no error", tc.name)
		}
	}
}
