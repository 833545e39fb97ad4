package calibrate

import (
	"math"
	"math/rand/v2"
	"runtime"
	"slices"
	"testing"

	"github.com/ann2snn/ann2snn/importer"
	"github.com/ann2snn/ann2snn/internal/ann"
	"github.com/ann2snn/ann2snn/internal/kernels"
	"github.com/ann2snn/ann2snn/snnrt"
)

// reluNet is x [N,C,H,W] → Relu → r: the kept value r is the positive part
// of the input, so every statistic can be computed from the input alone.
func reluNet(t *testing.T, c, h, w int) *ann.Executor {
	t.Helper()
	g := &importer.Graph{
		Inputs:  []importer.Value{{Name: "x", Shape: []int{-1, c, h, w}}},
		Outputs: []string{"r"},
		Nodes:   []*importer.Node{{Name: "relu", Op: "Relu", Inputs: []string{"x"}, Outputs: []string{"r"}, Attrs: importer.Attrs{}}},
		Consts:  map[string]*importer.Tensor{},
	}
	ex, err := ann.New(g)
	if err != nil {
		t.Fatal(err)
	}
	return ex
}

// synthImages generates image i on demand (a deterministic function of
// i), so that a test can stream many images without holding them.
type synthImages struct{ n, per int }

func (s synthImages) Len() int { return s.n }

func (s synthImages) Read(dst []float32, start, n int) error {
	for i := range n {
		r := rand.New(rand.NewPCG(uint64(start+i), 11))
		for j := range s.per {
			dst[i*s.per+j] = float32(r.NormFloat64() * (1 + float64(j%3)))
		}
	}
	return nil
}

// materialise returns all images of src in one slice.
func materialise(t *testing.T, src Images, per int) []float32 {
	t.Helper()
	x := make([]float32, src.Len()*per)
	if err := src.Read(x, 0, src.Len()); err != nil {
		t.Fatal(err)
	}
	return x
}

// channelValues returns, per channel, all input values of channel c of
// the NCHW images x (the in-memory reference).
func channelValues(x []float32, c, inner int) [][]float32 {
	out := make([][]float32, c)
	for i := 0; i < len(x); i += c * inner {
		for ch := range c {
			out[ch] = append(out[ch], x[i+ch*inner:i+(ch+1)*inner]...)
		}
	}
	return out
}

// withProcs runs f with GOMAXPROCS p.
func withProcs(p int, f func()) {
	old := runtime.GOMAXPROCS(p)
	defer runtime.GOMAXPROCS(old)
	f()
}

// TestCollectMatchesInMemory: the streamed thresholds equal the norms
// applied to all values at once — bit for bit while the histograms are
// exact (few images), within their resolution after (many) — and are
// identical for every batch size and GOMAXPROCS 1 and 2.
func TestCollectMatchesInMemory(t *testing.T) {
	const c, h, w = 3, 2, 2
	norms := []Norm{Max{}, Percentile(99.9), MSEOptimal{T: 8}}
	for _, n := range []int{37, 12_000} {
		src := synthImages{n: n, per: c * h * w}
		x := materialise(t, src, c*h*w)
		vals := channelValues(x, c, h*w)
		all := slices.Concat(vals...)
		var ref [][]float32 // [norm] thresholds of the first run
		for _, procs := range []int{1, 2} {
			for _, batch := range []int{1, 7, 64, n} {
				if n > 1000 && batch == 1 {
					continue // slow and adds nothing over 7
				}
				var got map[string]*Sample
				var err error
				withProcs(procs, func() {
					got, err = Collect(t.Context(), reluNet(t, c, h, w), src, []string{"r"}, CollectOptions{Batch: batch, PerChannel: true})
				})
				if err != nil {
					t.Fatal(err)
				}
				s := got["r"]
				for ch, v := range vals {
					if s.Count[ch] != len(v) {
						t.Errorf("n %d: channel %d counted %d values, want %d", n, ch, s.Count[ch], len(v))
					}
				}
				for k, norm := range norms {
					layer, err := s.Threshold(t.Context(), norm, false)
					if err != nil {
						t.Fatal(err)
					}
					perCh, err := s.Threshold(t.Context(), norm, true)
					if err != nil {
						t.Fatal(err)
					}
					th := append(layer, perCh...)
					if ref == nil || len(ref) <= k {
						ref = append(ref, th)
						checkAgainstMemory(t, n, norm, s, th, all, vals)
						continue
					}
					if !slices.Equal(th, ref[k]) {
						t.Errorf("n %d %v: batch %d GOMAXPROCS %d gives %v, first run %v", n, norm, batch, procs, th, ref[k])
					}
				}
			}
		}
	}
}

// checkAgainstMemory compares the thresholds th (layer, then channels)
// with the in-memory norm on the same values.
func checkAgainstMemory(t *testing.T, n int, norm Norm, s *Sample, th, all []float32, vals [][]float32) {
	t.Helper()
	hists := append([]*Hist{s.Layer}, s.Channel...)
	values := append([][]float32{all}, vals...)
	for i, hs := range hists {
		want := norm.Threshold(slices.Clone(values[i]))
		if hs.Exact() {
			if th[i] != want {
				t.Errorf("n %d %v hist %d (exact): %v, in memory %v", n, norm, i, th[i], want)
			}
			continue
		}
		pos := positive(values[i])
		switch norm.(type) {
		case MSEOptimal:
			// The choice may move by a grid step; its error may not grow.
			T := norm.(MSEOptimal).T
			if eh, em := quantError(pos, th[i], T), quantError(pos, want, T); eh > em*1.005 {
				t.Errorf("n %d %v hist %d: θ %v has error %v, in-memory θ %v has %v", n, norm, i, th[i], eh, want, em)
			}
		default:
			rel := math.Ldexp(1, -int(hs.bits))
			if d := math.Abs(float64(th[i] - want)); d > rel*float64(want) {
				t.Errorf("n %d %v hist %d: %v, in memory %v", n, norm, i, th[i], want)
			}
		}
	}
}

// TestCollectPerLayerRefusesPerChannel: a sample collected per layer has
// no channel histograms and says so instead of guessing.
func TestCollectPerLayerRefusesPerChannel(t *testing.T) {
	got, err := Collect(t.Context(), reluNet(t, 2, 1, 1), synthImages{n: 5, per: 2}, []string{"r"}, CollectOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := got["r"].Threshold(t.Context(), Max{}, true); err == nil {
		t.Error("per-channel threshold of a per-layer sample: no error")
	}
}

// TestCollectMemoryBounded: collecting 100,000 images keeps hardly more
// heap than collecting 20,000 (all values kept would be 19 MB): the
// summaries grow only by an octave row (32 KB) now and then, as rarer
// tiny values appear.
func TestCollectMemoryBounded(t *testing.T) {
	const c, h, w = 3, 4, 4
	live := func(n int) (uint64, int) {
		ex := reluNet(t, c, h, w)
		runtime.GC()
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		got, err := Collect(t.Context(), ex, synthImages{n: n, per: c * h * w}, []string{"r"}, CollectOptions{Batch: 64})
		if err != nil {
			t.Fatal(err)
		}
		runtime.GC()
		runtime.ReadMemStats(&after)
		s := got["r"]
		if s.Layer.Exact() {
			t.Fatalf("%d images: the layer histogram is still exact", n)
		}
		bytes := s.Layer.Bytes()
		runtime.KeepAlive(got)
		return after.HeapAlloc - min(after.HeapAlloc, before.HeapAlloc), bytes
	}
	const row = 8 << LayerBits
	small, smallBytes := live(20_000)
	large, largeBytes := live(100_000)
	if largeBytes > smallBytes+4*row {
		t.Errorf("summary holds %d B after 100,000 images, %d B after 20,000", largeBytes, smallBytes)
	}
	const kept = 100_000 * c * h * w * 4
	if large > small+kept/16 {
		t.Errorf("live heap after collecting: %d B for 100,000 images, %d B for 20,000 (all values would be %d B)", large, small, kept)
	}
}

// TestClippedMeans checks the streamed means of min(max(a, 0), limit[c])
// against a direct computation over all images, for several batch sizes
// and GOMAXPROCS 1 and 2 (bit-identical), and hand-checks a tiny case.
func TestClippedMeans(t *testing.T) {
	t.Run("hand", func(t *testing.T) {
		// Two images of two channels of two values each.
		x := []float32{
			-1, 3, 0.5, 0.25, // image 0: channel 0, channel 1
			2, 1, -4, 8, // image 1
		}
		// ch 0, limit 2: (0 + 2 + 2 + 1)/4 = 1.25; ch 1, limit 1: (0.5 + 0.25 + 0 + 1)/4 = 0.4375.
		for _, batch := range []int{1, 2} {
			got, err := ClippedMeans(t.Context(), reluNet(t, 2, 1, 2), Slice(x, 2), batch, []string{"r"}, [][]float32{{2, 1}})
			if err != nil {
				t.Fatal(err)
			}
			if want := []float64{1.25, 0.4375}; !slices.Equal(got[0], want) {
				t.Errorf("batch %d: got %v, want %v", batch, got[0], want)
			}
		}
	})
	t.Run("stream", func(t *testing.T) {
		const c, inner, n = 3, 4, 500
		src := synthImages{n: n, per: c * inner}
		vals := channelValues(materialise(t, src, c*inner), c, inner)
		limits := []float32{0.5, 1, 2}
		var first []float64
		for _, run := range []struct{ batch, procs int }{{1, 1}, {13, 2}, {13, 1}, {n, 2}} {
			batch := run.batch
			var got [][]float64
			var err error
			withProcs(run.procs, func() {
				got, err = ClippedMeans(t.Context(), reluNet(t, c, 2, 2), src, batch, []string{"r"}, [][]float32{limits})
			})
			if err != nil {
				t.Fatal(err)
			}
			for ch, v := range vals {
				var s float64
				for _, a := range v {
					s += float64(min(max(a, 0), limits[ch]))
				}
				if want := s / float64(len(v)); math.Abs(got[0][ch]-want) > 1e-12 {
					t.Errorf("batch %d channel %d: %v, want %v", batch, ch, got[0][ch], want)
				}
			}
			if first == nil {
				first = got[0]
			} else if !slices.Equal(got[0], first) {
				t.Errorf("batch %d GOMAXPROCS %d: %v, batch 1 %v", batch, run.procs, got[0], first)
			}
		}
	})
}

// ifNet is one IF layer (θ 1, V0 θ/2, one spike per step, unsigned) on a
// [2,1,2] input, read out through an identity 1×1 convolution: its rate ×
// θ is round(a·T)/T clipped to [0, 1] for a constant input current a.
func ifNet(t *testing.T) *snnrt.Model {
	t.Helper()
	m := &snnrt.Model{Input: snnrt.Shape{C: 2, H: 1, W: 2}}
	if _, err := m.Append(snnrt.Layer{Name: "if", Kind: snnrt.KindIF, Inputs: []int{snnrt.InputIndex},
		IF: snnrt.IF{Theta: []float32{1}, V0: []float32{0.5}}}); err != nil {
		t.Fatal(err)
	}
	geom := kernels.ConvGeom{C: 2, H: 1, W: 2, K: 2, KH: 1, KW: 1, StrideH: 1, StrideW: 1, DilH: 1, DilW: 1, Group: 1}
	if _, err := m.Append(snnrt.Layer{Name: "out", Kind: snnrt.KindConv, Inputs: []int{0}, Conv: geom, W: []float32{1, 0, 0, 1}}); err != nil {
		t.Fatal(err)
	}
	return m
}

// TestSNNMeansAndCorrectBias hand-checks the streamed SNN means and the
// correction they give, for several batch sizes. With T = 10, inputs
// 0.26, 0.74, −0.2 and 1.5 fire 3, 7, 0 and 10 times (membrane 0.5 +
// 0.26·k − spikes first reaches 1 at k = 2, 6, 10, …).
func TestSNNMeansAndCorrectBias(t *testing.T) {
	const T = 10
	x := []float32{
		0.26, 0.74, -0.2, 1.5, // image 0: channel 0, channel 1
		0.74, 0.74, 0.26, -0.2, // image 1
		0.26, 0.26, 1.5, 1.5, // image 2
	}
	// ch 0: (0.3 + 0.7 + 0.7 + 0.7 + 0.3 + 0.3)/6 = 0.5;
	// ch 1: (0 + 1 + 0.3 + 0 + 1 + 1)/6 = 0.55.
	want := []float64{0.5, 0.55}
	for _, batch := range []int{1, 2, 3} {
		m := ifNet(t)
		got, err := SNNMeans(t.Context(), m, Slice(x, 3), batch, T, []int{0})
		if err != nil {
			t.Fatal(err)
		}
		for ch := range want {
			if math.Abs(got[0][ch]-want[ch]) > 1e-9 {
				t.Errorf("batch %d: means %v, want %v", batch, got[0], want)
			}
		}
		// Targets 0.6 and 0.5: errors 0.1 and −0.05 go into V0 as e·T.
		tg := []Target{{Layer: 0, Mean: []float64{0.6, 0.5}}}
		if err := CorrectBias(t.Context(), m, Slice(x, 3), batch, T, tg, true); err != nil {
			t.Fatal(err)
		}
		wantV0 := []float32{0.5 + 1, 0.5 - 0.5}
		for ch, v := range m.Layers[0].IF.V0 {
			if math.Abs(float64(v-wantV0[ch])) > 1e-5 {
				t.Errorf("batch %d: V0 %v, want %v", batch, m.Layers[0].IF.V0, wantV0)
			}
		}
	}
}

// TestImagesHelpers checks Slice's and Head's bounds.
func TestImagesHelpers(t *testing.T) {
	x := []float32{1, 2, 3, 4, 5, 6}
	s := Slice(x, 3)
	if err := s.Read(make([]float32, 3), 1, 1); err == nil {
		t.Error("Read into a buffer of the wrong size: no error")
	}
	dst := make([]float32, 2)
	if err := s.Read(dst, 2, 1); err != nil || !slices.Equal(dst, []float32{5, 6}) {
		t.Errorf("Read(2, 1) = %v, %v; want [5 6]", dst, err)
	}
	if err := s.Read(make([]float32, 4), 2, 2); err == nil {
		t.Error("Read past the end: no error")
	}
	if h := Head(s, 2); h.Len() != 2 {
		t.Errorf("Head(2).Len() = %d", h.Len())
	}
	if err := Head(s, 2).Read(make([]float32, 2), 2, 1); err == nil {
		t.Error("Read past the end of Head(2): no error")
	}
	if _, err := Collect(t.Context(), reluNet(t, 1, 1, 1), Slice(nil, 0), []string{"r"}, CollectOptions{}); err == nil {
		t.Error("Collect without images: no error")
	}
	if h := Head(s, 10); h.Len() != 3 {
		t.Errorf("Head(10) of 3 images has Len %d", h.Len())
	}
	if err := batches(t.Context(), s, 2, 0, nil); err == nil {
		t.Error("batch size 0: no error")
	}
}

// TestFitBatch: a 3×4×4 ReLU output keeps 192 bytes per image.
func TestFitBatch(t *testing.T) {
	ex := reluNet(t, 3, 4, 4)
	tests := []struct {
		batch, maxBytes, want int
		err                   bool
	}{
		{64, 0, 64, false},     // 12 KB ≪ DefaultMaxBytes
		{64, 1000, 5, false},   // ⌊1000/192⌋
		{64, 100, 1, false},    // never below one image
		{3, 1 << 20, 3, false}, // never above the batch asked for
		{0, 1000, 0, true},     // no batch
	}
	for _, tc := range tests {
		got, err := fitBatch(ex, []string{"r"}, tc.batch, tc.maxBytes)
		if (err != nil) != tc.err || got != tc.want {
			t.Errorf("fitBatch(%d, %d) = %d, %v; want %d (error %v)", tc.batch, tc.maxBytes, got, err, tc.want, tc.err)
		}
	}
	if _, err := fitBatch(ex, []string{"nope"}, 8, 0); err == nil {
		t.Error("unknown value name: no error")
	}
}
