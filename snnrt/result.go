package snnrt

import "fmt"

// LayerStats are the activity counts of one layer (or the model input),
// summed over all images and time steps of a Run.
type LayerStats struct {
	// Neurons is the number of IF neurons per image (0 for other kinds).
	Neurons int
	// Spikes is the number of spikes emitted: for IF layers Σ|s| (a burst
	// of s spikes counts s, a negative spike counts 1); for spiking
	// MaxPool layers and the Poisson input, the number of non-zero
	// outputs.
	Spikes int64
	// SOPs is the number of synaptic operations the layer's spikes cause:
	// Σ over spikes of the number of synapses that spike drives in the next
	// synaptic layer(s), reached through any routing layers (exact conv
	// fan-out with borders, stride and dilation; Out for linear). Bias
	// additions are not counted.
	SOPs int64
	// MACs is the number of dense multiply-accumulates caused by the
	// layer's analog output: the model input under Direct encoding, and
	// Conv/Linear layers that feed a synaptic layer without neurons in
	// between. Counted every step as if all values were non-zero.
	MACs int64
}

func (s *LayerStats) add(o LayerStats) {
	s.Spikes += o.Spikes
	s.SOPs += o.SOPs
	s.MACs += o.MACs
}

// runStats are the counts one worker of Run or Simulator.Run gathers for
// its chunks; Result.addStats merges them (integer sums, so the order of
// the workers does not matter).
type runStats struct {
	input    LayerStats
	layers   []LayerStats
	stepSOPs []int64 // per step, all layers
	stepMACs []int64
}

func newRunStats(layers, T int) runStats {
	return runStats{layers: make([]LayerStats, layers), stepSOPs: make([]int64, T), stepMACs: make([]int64, T)}
}

func (s *runStats) reset() {
	s.input = LayerStats{}
	clear(s.layers)
	clear(s.stepSOPs)
	clear(s.stepMACs)
}

// addSpikes counts the spikes of layer i (InputIndex: the encoded input)
// at step t and the SOPs they cause.
func (s *runStats) addSpikes(i, t int, spikes, sops int64) {
	l := &s.input
	if i != InputIndex {
		l = &s.layers[i]
	}
	l.Spikes += spikes
	l.SOPs += sops
	s.stepSOPs[t] += sops
}

// addMACs counts one step t of nimg images of the dense MACs per image of
// each source (macs, indexed layer+1).
func (s *runStats) addMACs(macs []int64, nimg, t int) {
	for i, mac := range macs {
		if mac == 0 {
			continue
		}
		d := mac * int64(nimg)
		if i == 0 {
			s.input.MACs += d
		} else {
			s.layers[i-1].MACs += d
		}
		s.stepMACs[t] += d
	}
}

// addStats adds a worker's counts to r.
func (r *Result) addStats(s *runStats) {
	r.Input.add(s.input)
	for i := range r.Layers {
		r.Layers[i].add(s.layers[i])
	}
	for t := range r.stepSOPs {
		r.stepSOPs[t] += s.stepSOPs[t]
		r.stepMACs[t] += s.stepMACs[t]
	}
}

// Result holds the outcome of Run.
type Result struct {
	N       int // images
	T       int // time steps
	Classes int // per-image length of the output layer
	// Input holds the statistics of the encoded model input.
	Input LayerStats
	// Layers holds per-layer statistics, indexed like Model.Layers.
	Layers []LayerStats
	// Steps is, for a run with an exit policy (Config.Exit), the number
	// of steps each image was simulated (1..T); nil otherwise.
	Steps []int

	acc      []float32 // [T][N][Classes] accumulated output
	stepSOPs []int64   // SOPs at step t (0-based), all layers
	stepMACs []int64
}

func newResult(m *Model, n, T int) *Result {
	c := m.Layers[m.Output].Shape.Len()
	r := &Result{N: n, T: T, Classes: c, Layers: make([]LayerStats, len(m.Layers)),
		acc: make([]float32, T*n*c), stepSOPs: make([]int64, T), stepMACs: make([]int64, T)}
	for i := range m.Layers {
		if m.Layers[i].Kind == KindIF {
			r.Layers[i].Neurons = m.Layers[i].Shape.Len()
		}
	}
	return r
}

func (r *Result) checkT(t int) {
	if t < 1 || t > r.T {
		panic(fmt.Sprintf("snnrt: time step %d out of range 1..%d", t, r.T))
	}
}

// Logits returns the output layer's value accumulated over steps 1..t,
// [N, Classes]; divide by t for the rate estimate of the ANN output. The
// slice aliases r and must not be modified. It panics unless 1 ≤ t ≤ T.
func (r *Result) Logits(t int) []float32 {
	r.checkT(t)
	return r.acc[(t-1)*r.N*r.Classes : t*r.N*r.Classes]
}

// Predictions returns, for every image, the index of the largest
// accumulated output after t steps (the first one on ties). It panics
// unless 1 ≤ t ≤ T.
func (r *Result) Predictions(t int) []int {
	l := r.Logits(t)
	p := make([]int, r.N)
	for i := range p {
		p[i] = argmax(l[i*r.Classes : (i+1)*r.Classes])
	}
	return p
}

// Accuracy returns the fraction of images whose prediction after t steps
// equals labels[i]; 0 when N == 0. It panics if len(labels) != N.
func (r *Result) Accuracy(t int, labels []int) float64 {
	if len(labels) != r.N {
		panic(fmt.Sprintf("snnrt: Accuracy: %d labels for %d images", len(labels), r.N))
	}
	if r.N == 0 {
		return 0
	}
	ok := 0
	for i, p := range r.Predictions(t) {
		if p == labels[i] {
			ok++
		}
	}
	return float64(ok) / float64(r.N)
}

// MeanSteps returns the mean number of steps per image: the mean of
// Steps, or T for a fixed-T run; 0 when N == 0.
func (r *Result) MeanSteps() float64 {
	if r.N == 0 {
		return 0
	}
	if r.Steps == nil {
		return float64(r.T)
	}
	var s int64
	for _, t := range r.Steps {
		s += int64(t)
	}
	return float64(s) / float64(r.N)
}

// Rate returns the firing rate of layer i: Spikes / (Neurons·N·T), the
// mean number of spikes per neuron per step (per simulated step, N·T
// replaced by ΣSteps, with an exit policy); 0 for layers without neurons.
func (r *Result) Rate(i int) float64 {
	s := r.Layers[i]
	if s.Neurons == 0 || r.N == 0 {
		return 0
	}
	return float64(s.Spikes) / (float64(s.Neurons) * r.MeanSteps() * float64(r.N))
}

// SOPs returns the synaptic operations of all layers (input included) over
// steps 1..t, summed over images. It panics unless 1 ≤ t ≤ T.
func (r *Result) SOPs(t int) int64 {
	r.checkT(t)
	var s int64
	for _, v := range r.stepSOPs[:t] {
		s += v
	}
	return s
}

// MACs returns the dense multiply-accumulates of all layers (input
// included) over steps 1..t, summed over images. It panics unless
// 1 ≤ t ≤ T.
func (r *Result) MACs(t int) int64 {
	r.checkT(t)
	var s int64
	for _, v := range r.stepMACs[:t] {
		s += v
	}
	return s
}
