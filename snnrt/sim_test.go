package snnrt

import (
	"math"
	"math/rand/v2"
	"runtime"
	"slices"
	"testing"

	"github.com/ann2snn/ann2snn/internal/kernels"
)

// simNets are the models the Simulator is checked on against Run.
func simNets(t testing.TB) []struct {
	name string
	m    *Model
} {
	return []struct {
		name string
		m    *Model
	}{
		{"small avgpool", smallNet(t, 1, false, IF{V0: []float32{0.5}})},
		{"small maxpool", smallNet(t, 2, true, IF{})},
		{"small burst", smallNet(t, 3, false, IF{MaxSpikes: 3})},
		{"small signed", smallNet(t, 4, true, IF{Signed: true, V0: []float32{0.4}})},
		{"small reset zero", smallNet(t, 5, false, IF{Reset: ResetToZero})},
		{"branchy", branchyNet(t, 6)},
		{"wide", wideNet(t, 7, IF{V0: []float32{0.5}})},
		{"wide signed burst", wideNet(t, 8, IF{Signed: true, MaxSpikes: 2, V0: []float32{0.375}})},
		{"wide burst", wideNet(t, 9, IF{MaxSpikes: 4})},
		{"wide signed reset zero", wideNet(t, 10, IF{Signed: true, MaxSpikes: 2, Reset: ResetToZero})},
	}
}

// maxRelDiff returns max |a−b| / max(1, max|a|).
func maxRelDiff(a, b []float32) float64 {
	var d, s float64
	for i := range a {
		d = max(d, math.Abs(float64(a[i])-float64(b[i])))
		s = max(s, math.Abs(float64(a[i])))
	}
	return d / max(1, s)
}

func TestSimulatorMatchesRun(t *testing.T) {
	const n, T = 11, 8
	r := rand.New(rand.NewPCG(4, 4))
	for _, tc := range simNets(t) {
		for _, enc := range []Encoding{Direct, Poisson} {
			x := randVec(r, n*tc.m.Input.Len(), -0.2, 1.2)
			cfg := Config{T: T, Encoding: enc, Seed: 7}
			ref, err := Run(tc.m, x, n, cfg)
			if err != nil {
				t.Fatal(err)
			}
			for i, st := range ref.Layers {
				if st.Neurons > 0 && (st.Spikes == 0 || st.Spikes == int64(st.Neurons*n*T*tc.m.Layers[i].IF.maxSpikes())) {
					t.Fatalf("%s: layer %s fired %d spikes: a test net whose neurons never or always fire", tc.name, tc.m.Layers[i].Name, st.Spikes)
				}
			}
			for _, mode := range []struct {
				dense bool
				ratio int64
			}{{true, eventCostRatio}, {false, eventCostRatio}, {false, 0}, {false, 1 << 40}} {
				dense := mode.dense
				cfg.Dense = dense
				sim, err := NewSimulator(tc.m, cfg)
				if err != nil {
					t.Fatal(err)
				}
				sim.costRatio = mode.ratio
				got, err := sim.Run(x, n)
				if err != nil {
					t.Fatal(err)
				}
				for tt := 1; tt <= T; tt++ {
					a, b := ref.Logits(tt), got.Logits(tt)
					if dense && !slices.Equal(a, b) {
						t.Fatalf("%s %v dense: logits(%d) differ: %v vs %v", tc.name, enc, tt, b, a)
					}
					if d := maxRelDiff(a, b); d > 1e-5 {
						t.Fatalf("%s %v dense=%v ratio=%d: logits(%d) rel diff %g\n%v\n%v", tc.name, enc, dense, mode.ratio, tt, d, ref.Layers, got.Layers)
					}
				}
				var ev, de int64
				for _, p := range sim.Profile() {
					ev += p.Event
					de += p.Dense
				}
				switch {
				case dense && ev+de != 0:
					t.Fatalf("%s: dense simulator ran %d event and %d dense fallback steps", tc.name, ev, de)
				case !dense && mode.ratio == 0 && (ev == 0 || de != 0):
					t.Fatalf("%s: forced event path ran %d event, %d dense steps", tc.name, ev, de)
				case !dense && mode.ratio > 1<<30 && de == 0:
					t.Fatalf("%s: forced dense fallback ran %d event, %d dense steps", tc.name, ev, de)
				}
				if !slices.Equal(ref.Layers, got.Layers) || ref.Input != got.Input || ref.SOPs(T) != got.SOPs(T) || ref.MACs(T) != got.MACs(T) {
					t.Fatalf("%s %v dense=%v: stats differ:\n%v\n%v", tc.name, enc, dense, ref.Layers, got.Layers)
				}
			}
		}
	}
}

func TestSimulatorDeterminism(t *testing.T) {
	m := branchyNet(t, 5)
	const n, T = 13, 5
	r := rand.New(rand.NewPCG(9, 9))
	x := randVec(r, n*m.Input.Len(), -0.2, 1.2)
	for _, enc := range []Encoding{Direct, Poisson} {
		var ref *Result
		for _, st := range []struct{ procs, workers, chunk int }{{1, 0, 0}, {2, 0, 0}, {2, 0, 1}, {1, 3, 2}, {2, 4, 5}} {
			old := runtime.GOMAXPROCS(st.procs)
			sim, err := NewSimulator(m, Config{T: T, Encoding: enc, Seed: 1, Workers: st.workers, Chunk: st.chunk})
			if err != nil {
				t.Fatal(err)
			}
			res, err := sim.Run(x, n)
			runtime.GOMAXPROCS(old)
			if err != nil {
				t.Fatal(err)
			}
			if ref == nil {
				ref = res
				continue
			}
			if !slices.Equal(ref.acc, res.acc) || !slices.Equal(ref.Layers, res.Layers) || !slices.Equal(ref.stepSOPs, res.stepSOPs) {
				t.Fatalf("%v %+v: results differ", enc, st)
			}
		}
	}
}

// TestVisitKernels compares the assembly event kernels with visitGo.
func TestVisitKernels(t *testing.T) {
	if !haveEventAsm() {
		t.Skip("no assembly event kernels on this CPU")
	}
	r := rand.New(rand.NewPCG(3, 3))
	for _, width := range []int{64, 32, 16, 8} {
		for _, d := range []float64{0, 0.2, 1} {
			const ld, chans, positions = 72, 7, 4
			w := randVec(r, chans*ld, -1, 1)
			e, _ := randEvents(r, chans, positions, d)
			for j := range e.val[:e.count()] {
				e.val[j] = r.Float32()*4 - 2
			}
			acc := randVec(r, 3*ld, -1, 1)
			// Visits in any order, repeated positions, and two halves of a
			// position as channel blocks (bs = start with a split inserted).
			bs := []int32{e.start[0], e.start[1], e.start[2], e.start[3], (e.start[3] + e.start[4]) / 2, e.start[4]}
			vis := []visitRef{{in: 0, out: 0}, {in: 3, out: ld}, {in: 2, out: 2*ld + 8}, {in: 4, out: 0}, {in: 1, out: 0}, {in: 3, out: 0}, {}}
			vis = vis[:len(vis)-1] // the kernels read one visit ahead
			off := e.off[:len(e.ch)]
			for j, c := range e.ch {
				off[j] = c * ld
			}
			want := slices.Clone(acc)
			visitGo(want, w, width, vis, bs, off, e.val)
			visitAsm(width, haveVisit512(), acc, w, vis, bs, e.off, e.val[:cap(e.val)])
			if diff := maxRelDiff(want, acc); diff > 1e-6 {
				t.Errorf("width %d, density %v: rel diff %g", width, d, diff)
			}
		}
	}
}

// TestSimulatorStepAllocs checks that a time step allocates nothing, on the
// event and the dense path.
func TestSimulatorStepAllocs(t *testing.T) {
	m := branchyNet(t, 2)
	const n = 4
	x := randVec(rand.New(rand.NewPCG(1, 2)), n*m.Input.Len(), 0, 1)
	for _, cfg := range []Config{{T: 3}, {T: 3, Dense: true}, {T: 3, Encoding: Poisson}, {T: 3, Profile: true}} {
		cfg.Chunk = n
		sim, err := NewSimulator(m, cfg)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := sim.Run(x, n); err != nil { // creates the worker
			t.Fatal(err)
		}
		w := sim.workers[0]
		r := newResult(m, n, cfg.T)
		if a := testing.AllocsPerRun(10, func() { w.step(1, x, n) }); a != 0 {
			t.Errorf("%+v: step allocates %v times", cfg, a)
		}
		if a := testing.AllocsPerRun(5, func() { w.simulate(r, x, 0, n) }); a != 0 {
			t.Errorf("%+v: simulate allocates %v times", cfg, a)
		}
	}
}

func TestSimulatorErrors(t *testing.T) {
	m := smallNet(t, 1, false, IF{})
	if _, err := NewSimulator(m, Config{}); err == nil {
		t.Error("T = 0: no error")
	}
	if _, err := NewSimulator(m, Config{T: 1, Encoding: 7}); err == nil {
		t.Error("bad encoding: no error")
	}
	if _, err := NewSimulator(&Model{}, Config{T: 1}); err == nil {
		t.Error("empty model: no error")
	}
	sim, err := NewSimulator(m, Config{T: 1})
	if err != nil {
		t.Fatal(err)
	}
	x := make([]float32, m.Input.Len())
	if _, err := sim.Run(x[1:], 1); err == nil {
		t.Error("short input: no error")
	}
	x[3] = float32(math.Inf(1))
	if _, err := sim.Run(x, 1); err == nil {
		t.Error("Inf input: no error")
	}
}

// TestIFSubtractKernels compares ifSubtract8 with ifSubtractGo and with
// IF.step.
func TestIFSubtractKernels(t *testing.T) {
	const c, p = 24, 5
	r := rand.New(rand.NewPCG(8, 8))
	theta := randVec(r, c, 0.5, 1.5)
	v := randVec(r, c*p, -1, 1)
	x := randVec(r, c*p, -0.5, 2)
	x[3], x[9] = theta[3]-v[3], float32(math.NaN()) // exactly at threshold; NaN
	want, got := slices.Clone(v), slices.Clone(v)
	wm, gm := make([]uint8, c*p/8), make([]uint8, c*p/8)
	ifSubtractGo(want, x, theta, c, p, wm)
	if haveEventAsm() {
		ifSubtract(got, x, theta, c, p, gm)
		for j := range want {
			if math.Float32bits(want[j]) != math.Float32bits(got[j]) {
				t.Fatalf("v[%d] = %v, want %v", j, got[j], want[j])
			}
		}
		if !slices.Equal(wm, gm) {
			t.Fatalf("masks %v, want %v", gm, wm)
		}
	}
	// IF.fire on the same neurons.
	n := IF{Theta: theta}
	ref := slices.Clone(v)
	for j := range ref {
		ch := j % c
		u := ref[j] + x[j]
		k := n.fire(u, theta[ch], 1, 1, 0)
		if k != 0 {
			u -= theta[ch]
		}
		ref[j] = u
		if spike := wm[j/8]>>(j%8)&1 == 1; spike != (k == 1) {
			t.Fatalf("neuron %d: mask spike %v, fire %d", j, spike, k)
		}
	}
	for j := range ref {
		if math.Float32bits(ref[j]) != math.Float32bits(want[j]) && !math.IsNaN(float64(ref[j])) {
			t.Fatalf("neuron %d: v = %v, IF %v", j, want[j], ref[j])
		}
	}
}

// TestTranspose checks nchwToNHWC (block and scalar paths) and
// nhwcToNCHW against each other.
func TestTranspose(t *testing.T) {
	r := rand.New(rand.NewPCG(2, 2))
	for _, sz := range [][2]int{{8, 8}, {16, 24}, {32, 1024}, {12, 5}, {3, 16}, {1, 7}, {9, 1}} {
		c, p := sz[0], sz[1]
		src := randVec(r, c*p, -1, 1)
		dst := make([]float32, c*p)
		nchwToNHWC(dst, src, c, p)
		for ch := 0; ch < c; ch++ {
			for q := 0; q < p; q++ {
				if dst[q*c+ch] != src[ch*p+q] {
					t.Fatalf("%dx%d: [%d][%d] wrong", c, p, ch, q)
				}
			}
		}
		back := make([]float32, c*p)
		nhwcToNCHW(back, dst, c, p)
		if !slices.Equal(back, src) {
			t.Fatalf("%dx%d: round trip differs", c, p)
		}
	}
}

// TestSimulatorPreactivations runs a VGG-like net, where over many steps
// a neuron at its threshold eventually fires differently under the event
// path's summation order. Until the first spike differs, every layer of the
// Simulator must match Run: spikes exactly, analog values to 1e-5
// relative; after it, predictions must still agree.
func TestSimulatorPreactivations(t *testing.T) {
	m := vggNet(t)
	const n, T = 4, 6
	x := randVec(rand.New(rand.NewPCG(6, 6)), n*m.Input.Len(), 0, 1)
	record := func(outs [][]float32) func(layer, step, first, k int, out []float32) {
		return func(layer, step, first, k int, out []float32) {
			if layer >= 0 {
				i := (step-1)*len(m.Layers) + layer
				per := len(out) / k
				copy(outs[i][first*per:], out)
			}
		}
	}
	alloc := func() [][]float32 {
		o := make([][]float32, T*len(m.Layers))
		for i := range o {
			o[i] = make([]float32, n*m.Layers[i%len(m.Layers)].Shape.Len())
		}
		return o
	}
	ref, got := alloc(), alloc()
	rr, err := Run(m, x, n, Config{T: T, Observe: record(ref)})
	if err != nil {
		t.Fatal(err)
	}
	sim, err := NewSimulator(m, Config{T: T, Chunk: 3, Observe: record(got)})
	if err != nil {
		t.Fatal(err)
	}
	rs, err := sim.Run(x, n)
	if err != nil {
		t.Fatal(err)
	}
	compared := 0
loop:
	for i := range ref {
		l := &m.Layers[i%len(m.Layers)]
		switch {
		case l.Kind == KindIF && !slices.Equal(ref[i], got[i]):
			break loop
		case l.Kind != KindIF && maxRelDiff(ref[i], got[i]) > 1e-5:
			t.Fatalf("step %d layer %d (%v): rel diff %g before any spike differs", i/len(m.Layers)+1, i%len(m.Layers), l.Kind, maxRelDiff(ref[i], got[i]))
		}
		compared++
	}
	t.Logf("identical spikes for %d of %d layer·steps", compared, len(ref))
	if compared < 2*len(m.Layers) {
		t.Fatalf("spikes differ already at step %d", compared/len(m.Layers)+1)
	}
	if !slices.Equal(rr.Predictions(T), rs.Predictions(T)) {
		t.Errorf("predictions %v, Run %v", rs.Predictions(T), rr.Predictions(T))
	}
	var sev int64
	for _, p := range sim.Profile() {
		sev += p.Event
	}
	if sev == 0 {
		t.Fatal("no layer ran event-driven: test is vacuous")
	}
}

// TestEventSynMatchesDense checks the blocked event accumulation against
// the dense convolution on geometries that split input channels into
// several blocks, leave output channels that no vector kernel covers,
// group, stride and dilate.
func TestEventSynMatchesDense(t *testing.T) {
	r := rand.New(rand.NewPCG(4, 2))
	for _, g := range []kernels.ConvGeom{
		{C: 144, H: 5, W: 5, K: 70, KH: 3, KW: 3, PadT: 1, PadL: 1, PadB: 1, PadR: 1},
		{C: 256, H: 3, W: 4, K: 128, KH: 3, KW: 3, PadT: 1, PadL: 1, PadB: 1, PadR: 1, Group: 2},
		{C: 16, H: 7, W: 5, K: 24, KH: 3, KW: 2, StrideH: 2, PadT: 1, PadB: 1, DilW: 2},
		{C: 8, H: 6, W: 6, K: 8, KH: 3, KW: 3, PadT: 1, PadL: 1, PadB: 1, PadR: 1, Group: 8},
		{C: 300, H: 1, W: 1, K: 70, KH: 1, KW: 1},
	} {
		s := newEventSyn(g, randVec(r, g.K*g.C/max(1, g.Group)*g.KH*g.KW, -1, 1), randVec(r, g.K, -1, 1))
		if g.C >= 144 && s.nb < 2 {
			t.Fatalf("%+v: %d channel blocks, want several", g, s.nb)
		}
		oh, ow := g.OutH(), g.OutW()
		for _, d := range []float64{0, 0.15, 1} {
			e, x := randEvents(r, g.C, g.H*g.W, d)
			for j := range e.val[:e.count()] {
				e.val[j] = r.Float32()*2 - 0.5
			}
			e.scatter(x, g.H*g.W)
			want := make([]float32, g.K*oh*ow)
			s.denseConv.Forward(want, x, 1, make([]float32, s.denseConv.WorkspaceLen(1)))
			acc := make([]float32, len(want))
			s.accumulate(acc, &e)
			got := make([]float32, len(want))
			nhwcToNCHW(got, acc, g.K, oh*ow)
			if diff := maxRelDiff(want, got); diff > 1e-5 {
				t.Errorf("%+v density %v: rel diff %g", g, d, diff)
			}
		}
	}
}

// TestAccumulateChunk checks that the tap-major accumulation of large
// layers is bit-identical to the output-stationary one.
func TestAccumulateChunk(t *testing.T) {
	r := rand.New(rand.NewPCG(4, 1))
	for _, g := range []kernels.ConvGeom{
		{C: 16, H: 6, W: 6, K: 72, KH: 3, KW: 3, PadT: 1, PadL: 1, PadB: 1, PadR: 1},
		{C: 8, H: 7, W: 5, K: 24, KH: 3, KW: 2, StrideH: 2, PadT: 1, PadB: 1, DilW: 2},
	} {
		s := newEventSyn(g, randVec(r, g.K*g.C*g.KH*g.KW, -1, 1), randVec(r, g.K, -1, 1))
		s.tapMajor = true
		L := g.K * g.OutH() * g.OutW()
		var accs, want [][]float32
		var evs []*events
		for i, d := range []float64{0, 0.1, 0.5} {
			e, _ := randEvents(r, g.C, g.H*g.W, d)
			evs = append(evs, &e)
			accs = append(accs, make([]float32, L))
			want = append(want, make([]float32, L))
			s.accumulate(want[i], &e)
		}
		s.accumulateChunk(accs, evs)
		for i := range accs {
			if !slices.Equal(accs[i], want[i]) {
				t.Fatalf("%+v image %d: tap-major result differs", g, i)
			}
		}
	}
}

// TestIFCharge checks the vector charge-and-flag kernel against its Go twin
// and against fire: a neuron is flagged exactly when fire may return a
// non-zero count.
func TestIFCharge(t *testing.T) {
	r := rand.New(rand.NewPCG(9, 9))
	const c, p = 24, 7
	for _, signed := range []bool{false, true} {
		v := make([]float32, c*p)
		x := make([]float32, c*p)
		theta := make([]float32, c)
		var cnt []int32
		if signed {
			cnt = make([]int32, c*p)
		}
		for i := range v {
			v[i], x[i] = float32(r.NormFloat64()), float32(r.NormFloat64())
			if cnt != nil {
				cnt[i] = int32(r.IntN(3)) - 1
			}
		}
		for i := range theta {
			theta[i] = 0.2 + r.Float32()
		}
		v2 := append([]float32(nil), v...)
		m1, m2 := make([]uint8, c*p/8), make([]uint8, c*p/8)
		ifCharge(v, x, theta, cnt, c, p, m1)
		ifChargeGo(v2, x, theta, cnt, c, p, m2)
		n := IF{Signed: signed, MaxSpikes: 2}
		for i := range v {
			if v[i] != v2[i] {
				t.Fatalf("signed=%v: v[%d] = %v, Go twin %v", signed, i, v[i], v2[i])
			}
			flag := m1[i/8]>>(i%8)&1 == 1
			if flag != (m2[i/8]>>(i%8)&1 == 1) {
				t.Fatalf("signed=%v: mask bit %d differs from the Go twin", signed, i)
			}
			var nc int32
			if cnt != nil {
				nc = cnt[i]
			}
			if k := n.fire(v[i], theta[i%c], 2, 2, nc); k != 0 && !flag {
				t.Fatalf("signed=%v: neuron %d fires %d but is not flagged", signed, i, k)
			}
		}
	}
}

// TestIFBurstKernels checks ifBurst (assembly where available) and its Go
// twin against IF.fire with M = 2, on membranes that land on, just below
// and just above the boundaries ±θ and 2θ.
func TestIFBurstKernels(t *testing.T) {
	r := rand.New(rand.NewPCG(11, 12))
	const c, p = 24, 9
	for _, signed := range []bool{false, true} {
		theta := make([]float32, c)
		for i := range theta {
			theta[i] = 0.2 + r.Float32()
		}
		v := make([]float32, c*p)
		x := make([]float32, c*p)
		var cnt []int32
		if signed {
			cnt = make([]int32, c*p)
		}
		for i := range v {
			th := theta[i%c]
			switch i % 4 {
			case 0: // random
				v[i], x[i] = float32(r.NormFloat64()), float32(r.NormFloat64())
			default: // x on a boundary, nudged by up to 2 ulps
				b := []float32{th, 2 * th, -th, 0}[r.IntN(4)]
				for k := r.IntN(5) - 2; k != 0; k -= min(max(k, -1), 1) {
					b = math.Nextafter32(b, float32(k))
				}
				x[i] = b
			}
			if cnt != nil {
				cnt[i] = int32(r.IntN(4)) - 1
			}
		}
		n := IF{Signed: signed, MaxSpikes: 2}
		type state struct {
			v    []float32
			cnt  []int32
			ks   []int32
			mask []uint8
		}
		run := func(f func(v, x, theta []float32, cnt, ks []int32, c, p int, mask []uint8)) state {
			s := state{v: slices.Clone(v), ks: make([]int32, c*p), mask: make([]uint8, c*p/8)}
			if cnt != nil {
				s.cnt = slices.Clone(cnt)
			}
			f(s.v, x, theta, s.cnt, s.ks, c, p, s.mask)
			return s
		}
		got, twin := run(ifBurst), run(ifBurstGo)
		if !slices.Equal(got.v, twin.v) || !slices.Equal(got.cnt, twin.cnt) || !slices.Equal(got.ks, twin.ks) || !slices.Equal(got.mask, twin.mask) {
			t.Fatalf("signed=%v: ifBurst and ifBurstGo differ", signed)
		}
		fired := 0
		for i := range v {
			u := v[i] + x[i]
			var nc int32
			if cnt != nil {
				nc = cnt[i]
			}
			k := n.fire(u, theta[i%c], 2, 2, nc)
			if int32(k) != got.ks[i] || got.v[i] != u-float32(k)*theta[i%c] || (k != 0) != (got.mask[i/8]>>(i%8)&1 == 1) {
				t.Fatalf("signed=%v neuron %d: u %v: k %d v %v, fire gives %d", signed, i, u, got.ks[i], got.v[i], k)
			}
			if cnt != nil && got.cnt[i] != nc+int32(k) {
				t.Fatalf("signed=%v neuron %d: cnt %d, want %d", signed, i, got.cnt[i], nc+int32(k))
			}
			if k != 0 {
				fired++
			}
		}
		if fired == 0 || fired == len(v) {
			t.Fatalf("signed=%v: %d of %d neurons fired", signed, fired, len(v))
		}
	}
}

// TestIFBurstEmitKernels checks ifBurstEmit (assembly where available)
// against its Go twin and against ifBurstGo plus the event list it implies.
func TestIFBurstEmitKernels(t *testing.T) {
	r := rand.New(rand.NewPCG(13, 14))
	const c, p = 32, 11
	lut := newPackLUT()
	for _, signed := range []bool{false, true} {
		theta := make([]float32, c)
		for i := range theta {
			theta[i] = 0.2 + r.Float32()
		}
		v, x := make([]float32, c*p), make([]float32, c*p)
		var cnt []int32
		if signed {
			cnt = make([]int32, c*p)
		}
		for i := range v {
			v[i], x[i] = float32(r.NormFloat64()), float32(r.NormFloat64()*0.7)
			if i%29 < 8 { // some all-silent blocks
				x[i] = -10
			}
			if cnt != nil {
				cnt[i] = int32(r.IntN(4)) - 1
			}
		}
		type out struct {
			v          []float32
			cnt        []int32
			ch         []int32
			val        []float32
			start, pos []int32
		}
		run := func(asm bool) out {
			o := out{v: slices.Clone(v), ch: make([]int32, c*p+8), val: make([]float32, c*p+8),
				start: make([]int32, p+1), pos: make([]int32, p)}
			if cnt != nil {
				o.cnt = slices.Clone(cnt)
			}
			var n int
			if asm {
				n = ifBurstEmit(o.v, x, theta, o.cnt, c, p, o.ch, o.val, o.start, o.pos, lut)
			} else {
				n = ifBurstEmitGo(o.v, x, theta, o.cnt, c, p, o.ch, o.val, o.start, o.pos)
			}
			o.ch, o.val = o.ch[:n], o.val[:n]
			return o
		}
		a, g := run(true), run(false)
		if !slices.Equal(a.v, g.v) || !slices.Equal(a.cnt, g.cnt) || !slices.Equal(a.ch, g.ch) ||
			!slices.Equal(a.val, g.val) || !slices.Equal(a.start, g.start) || !slices.Equal(a.pos, g.pos) {
			t.Fatalf("signed=%v: ifBurstEmit differs from ifBurstEmitGo", signed)
		}
		// The same step through ifBurstGo, and the events its k imply.
		v2, ks, mask := slices.Clone(v), make([]int32, c*p), make([]uint8, c*p/8)
		var cnt2 []int32
		if cnt != nil {
			cnt2 = slices.Clone(cnt)
		}
		ifBurstGo(v2, x, theta, cnt2, ks, c, p, mask)
		var ch []int32
		var val []float32
		for q := 0; q < p; q++ {
			var qs int32
			for b := 0; b < c; b++ {
				if k := ks[q*c+b]; k != 0 {
					ch, val = append(ch, int32(b)), append(val, float32(k)*theta[b])
					qs += max(k, -k)
				}
			}
			if a.start[q+1] != int32(len(ch)) || a.pos[q] != qs {
				t.Fatalf("signed=%v position %d: start %d pos %d, want %d %d", signed, q, a.start[q+1], a.pos[q], len(ch), qs)
			}
		}
		if !slices.Equal(a.v, v2) || !slices.Equal(a.cnt, cnt2) || !slices.Equal(a.ch, ch) || !slices.Equal(a.val, val) {
			t.Fatalf("signed=%v: ifBurstEmit differs from ifBurstGo", signed)
		}
		if len(ch) == 0 || len(ch) == c*p {
			t.Fatalf("signed=%v: %d of %d neurons fired", signed, len(ch), c*p)
		}
	}
}

// TestChunking checks the default chunking: chunks of at most
// defaultSimChunk images, a multiple of the workers, covering every image.
func TestChunking(t *testing.T) {
	for _, tc := range []struct{ cfg, n, workers, chunk, nchunks int }{
		{0, 64, 2, 16, 4},
		{0, 40, 2, 10, 4},
		{0, 33, 2, 9, 4},
		{0, 1, 2, 1, 1},
		{0, 100, 1, 15, 7},
		{0, 256, 4, 16, 16},
		{8, 64, 2, 8, 8},
		{5, 12, 3, 5, 3},
	} {
		chunk, nchunks := chunking(tc.cfg, defaultSimChunk, tc.n, tc.workers)
		if chunk != tc.chunk || nchunks != tc.nchunks {
			t.Errorf("chunking(%d, %d, %d) = %d, %d; want %d, %d", tc.cfg, tc.n, tc.workers, chunk, nchunks, tc.chunk, tc.nchunks)
		}
		if chunk > max(tc.cfg, defaultSimChunk) || (nchunks-1)*chunk >= tc.n || nchunks*chunk < tc.n {
			t.Errorf("chunking(%d, %d, %d) = %d, %d: does not cover the images exactly", tc.cfg, tc.n, tc.workers, chunk, nchunks)
		}
	}
}
