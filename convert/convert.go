package convert

import (
	"context"
	"fmt"
	"maps"
	"strconv"

	"github.com/ann2snn/ann2snn/calibrate"
	"github.com/ann2snn/ann2snn/importer"
	"github.com/ann2snn/ann2snn/internal/ann"
	"github.com/ann2snn/ann2snn/snnrt"
)

// BiasMode selects the bias correction of calibrate.CorrectBias.
type BiasMode int

const (
	// BiasOff applies no bias correction: the default, because with
	// signed burst neurons it did not pay for its simulation time
	// (docs/methods.md).
	BiasOff BiasMode = iota
	// BiasSequential corrects layer by layer, each with the earlier layers
	// already corrected (one simulation per IF layer).
	BiasSequential
	// BiasJoint measures every layer in one simulation and corrects all.
	BiasJoint
)

// String returns the --bias flag spelling.
func (b BiasMode) String() string {
	switch b {
	case BiasSequential:
		return "sequential"
	case BiasJoint:
		return "joint"
	case BiasOff:
		return "off"
	}
	return fmt.Sprintf("BiasMode(%d)", int(b))
}

// ParseBiasMode parses "sequential", "joint" or "off".
func ParseBiasMode(s string) (BiasMode, error) {
	for _, b := range []BiasMode{BiasSequential, BiasJoint, BiasOff} {
		if b.String() == s {
			return b, nil
		}
	}
	return 0, fmt.Errorf("unknown bias correction %q (want sequential, joint or off)", s)
}

// Options control Convert. The zero value is the measured default
// (docs/methods.md): T = 8 steps, the threshold granularity and burst size
// that measured best for T (PerT), thresholds minimising the quantisation
// error of the neurons built for T, initial potential θ/2, signed burst
// neurons, reset by subtraction, no bias correction.
type Options struct {
	// T is the number of time steps the SNN is meant to run; it tunes the
	// MSEOptimal norm and the bias correction. 0 means 8.
	T int
	// Norm chooses the thresholds of ReLU layers; nil means
	// calibrate.MSEOptimal for the neurons' quantiser (T·MaxSpikes levels,
	// rounding, or flooring with NoShift).
	Norm calibrate.Norm
	// PerChannel sets one threshold per channel, PerLayer one per layer;
	// neither means PerT(T)'s choice.
	PerChannel, PerLayer bool
	// NoShift leaves the initial potential at 0 instead of θ/2.
	NoShift bool
	// Bias selects the bias correction; zero is BiasOff.
	Bias BiasMode
	// CorrectImages is how many calibration images the bias correction
	// simulates; 0 means 256 (or all, if fewer).
	CorrectImages int
	// MaxSpikes is how many spikes a neuron may fire in one step (burst
	// spikes, see snnrt.IF); θ becomes λ/MaxSpikes. 0 means PerT(T)'s.
	MaxSpikes int
	// Unsigned disables negative (take-back) spikes, which are on by
	// default (see snnrt.IF.Signed).
	Unsigned bool
	// Reset is the neurons' reset mode; zero is reset by subtraction.
	Reset snnrt.ResetMode
	// MaxPool is the spiking max-pooling mode.
	MaxPool snnrt.MaxPoolMode
	// Batch is the ANN batch size during calibration; 0 means 64.
	Batch int
	// Target is the simulator the model is built for; TargetNIR overrides
	// the neuron fields above (see Target).
	Target Target

	resolved bool // withDefaults has filled in the defaults
}

// withDefaults returns o with every unset field set to its default; on
// options it returned it changes nothing (so later overrides stick).
func (o Options) withDefaults() Options {
	if o.resolved {
		return o
	}
	o.resolved = true
	if o.T <= 0 {
		o.T = 8
	}
	auto := PerT(o.T)
	if o.MaxSpikes < 1 {
		o.MaxSpikes = auto.MaxSpikes
	}
	if !o.PerChannel && !o.PerLayer {
		o.PerChannel = auto.PerChannel
	}
	o.PerLayer = !o.PerChannel
	if o.Norm == nil {
		o.Norm = o.neuronNorm()
	}
	if o.CorrectImages <= 0 {
		o.CorrectImages = 256
	}
	if o.Batch <= 0 {
		o.Batch = 64
	}
	return o
}

// Metadata returns the settings as .snn metadata entries.
func (o Options) Metadata() map[string]string {
	o = o.withDefaults()
	return map[string]string{
		"convert.t":              strconv.Itoa(o.T),
		"convert.norm":           o.Norm.String(),
		"convert.per_channel":    strconv.FormatBool(o.PerChannel),
		"convert.shift":          strconv.FormatBool(!o.NoShift),
		"convert.bias":           o.Bias.String(),
		"convert.correct_images": strconv.Itoa(o.CorrectImages),
		"convert.max_spikes":     strconv.Itoa(o.MaxSpikes),
		"convert.signed":         strconv.FormatBool(!o.Unsigned),
		"convert.reset":          o.Reset.String(),
		"convert.maxpool":        o.MaxPool.String(),
	}
}

// Convert turns the ANN g into a calibrated SNN. x holds n calibration
// images (NCHW, preprocessed as the ANN expects). g is not modified.
// The pipeline: FoldBatchNorm, Lower, threshold balancing on the ANN's
// activations, threshold shift, bias correction; see the package doc.
// It cannot be cancelled: ConvertImages can.
func Convert(g *importer.Graph, x []float32, n int, opt Options) (*snnrt.Model, error) {
	return ConvertImages(context.Background(), g, calibrate.Slice(x, n), opt)
}

// ConvertImages is Convert with calibration images read batch by batch
// from src (opt.Batch at a time), so that memory does not grow with their
// number. It stops soon after ctx is done (the calibration, the threshold
// search and the bias correction's simulations check it between batches,
// ANN passes, layers and time steps) and returns ctx.Err(), wrapped.
func ConvertImages(ctx context.Context, g *importer.Graph, src calibrate.Images, opt Options) (*snnrt.Model, error) {
	normSet := opt.Norm != nil
	opt = opt.withDefaults().forTarget(normSet)
	g = Clone(g)
	if err := FoldBatchNorm(g); err != nil {
		return nil, err
	}
	ex, err := ann.New(g)
	if err != nil {
		return nil, err
	}
	low, err := Lower(g)
	if err != nil {
		return nil, err
	}
	m := low.Model
	var names []string
	for _, nr := range low.Neurons {
		if balanced(nr.Act.Kind) {
			names = append(names, nr.Act.Output)
		}
	}
	var samples map[string]*calibrate.Sample
	if len(names) > 0 {
		copt := calibrate.CollectOptions{Batch: opt.Batch, PerChannel: opt.PerChannel}
		if samples, err = calibrate.Collect(ctx, ex, src, names, copt); err != nil {
			return nil, err
		}
	}
	targets := make([]calibrate.Target, 0, len(low.Neurons))
	var targetNames []string
	var limits [][]float32
	for _, nr := range low.Neurons {
		l := &m.Layers[nr.Layer]
		neuron := &l.IF
		neuron.Reset, neuron.Signed, neuron.MaxSpikes = opt.Reset, !opt.Unsigned, opt.MaxSpikes
		// λ is the largest output of the activation; a burst neuron
		// reaches it with MaxSpikes spikes of θ = λ/MaxSpikes.
		lambda := neuron.Theta
		if balanced(nr.Act.Kind) {
			data, err := samples[nr.Act.Output].Threshold(ctx, opt.Norm, opt.PerChannel)
			if err != nil {
				return nil, fmt.Errorf("convert: layer %q: %w", l.Name, err)
			}
			if nr.Act.Kind == ActReLU {
				lambda = data
			} else {
				lambda = clipBalance(lambda, data)
			}
		}
		neuron.Theta = make([]float32, len(lambda))
		for i, v := range lambda {
			neuron.Theta[i] = v / float32(opt.MaxSpikes)
		}
		// The threshold shift: start half way to the first spike, which
		// makes the neuron round instead of floor (for a quantiser, its
		// own rounding offset).
		shift := float32(0.5)
		if nr.Act.Kind == ActQuant {
			shift = nr.Act.Shift
		}
		neuron.V0 = nil
		if !opt.NoShift {
			neuron.V0 = make([]float32, len(neuron.Theta))
			for i, th := range neuron.Theta {
				neuron.V0[i] = shift * th
			}
		}
		for i, th := range neuron.Theta {
			if !(th > 0) {
				return nil, fmt.Errorf("convert: layer %q: threshold %d is %v, must be positive", l.Name, i, th)
			}
		}
		limit := make([]float32, len(neuron.Theta))
		for i, th := range neuron.Theta {
			limit[i] = th * float32(max(neuron.MaxSpikes, 1))
		}
		targets = append(targets, calibrate.Target{Layer: nr.Layer})
		targetNames = append(targetNames, nr.Act.Output)
		limits = append(limits, limit)
	}
	for i := range m.Layers {
		if m.Layers[i].Kind == snnrt.KindMaxPool {
			m.Layers[i].MaxPool = opt.MaxPool
		}
	}
	if err := tuneTarget(ctx, m, ex, src, opt, targets, targetNames); err != nil {
		return nil, err
	}
	if opt.Bias != BiasOff && len(targets) > 0 {
		head := calibrate.Head(src, opt.CorrectImages)
		means, err := calibrate.ClippedMeans(ctx, ex, head, opt.Batch, targetNames, limits)
		if err != nil {
			return nil, err
		}
		for i := range targets {
			targets[i].Mean = means[i]
		}
		if err := calibrate.CorrectBias(ctx, m, head, opt.Batch, opt.T, targets, opt.Bias == BiasSequential); err != nil {
			return nil, err
		}
	}
	maps.Copy(m.Metadata, opt.Metadata())
	for i, v := range low.Source {
		m.Metadata[SourceKey(i)] = v
	}
	if err := m.Validate(); err != nil {
		return nil, fmt.Errorf("convert: %w", err)
	}
	return m, nil
}

// SourceKey is the .snn metadata key that records the ANN value (in the
// BatchNorm-folded source graph) that layer i of the SNN computes.
func SourceKey(i int) string { return "source.value." + strconv.Itoa(i) }

// Clone returns a copy of g that passes can rewrite without changing g:
// nodes, their input lists and attribute maps are copied; constant tensors
// are shared (passes replace them, never write into them).
func Clone(g *importer.Graph) *importer.Graph {
	c := *g
	c.Inputs = append([]importer.Value(nil), g.Inputs...)
	c.Outputs = append([]string(nil), g.Outputs...)
	c.Consts = maps.Clone(g.Consts)
	c.Meta = maps.Clone(g.Meta)
	c.Nodes = make([]*importer.Node, len(g.Nodes))
	for i, n := range g.Nodes {
		nn := *n
		nn.Inputs = append([]string(nil), n.Inputs...)
		nn.Outputs = append([]string(nil), n.Outputs...)
		nn.Attrs = maps.Clone(n.Attrs)
		c.Nodes[i] = &nn
	}
	return &c
}

// balanced reports whether the thresholds of an activation of kind k are
// chosen from calibration data: ReLU (unbounded) and Clip(0, λ) (ReLU6),
// whose trained bound λ may lie far above what the data reach. A trained
// quantiser (QCFS) keeps its exact steps.
func balanced(k ActKind) bool { return k == ActReLU || k == ActClip }

// clipBalance returns the thresholds of a clip(x, 0, λ) activation given
// the data's balanced thresholds: min(λ, data) per element, broadcasting a
// single value over the other's channels. Where the data reach λ nothing
// changes; where they stay far below it (ReLU6 after a depthwise conv) a
// neuron with θ = λ would need most of T steps to fire once, so θ follows
// the data as for a ReLU: clip(x, 0, θ) differs from clip(x, 0, λ) only on
// the rare values above θ, the trade threshold balancing makes for every
// ReLU. A data threshold that is not positive (a silent channel) keeps λ.
func clipBalance(lambda, data []float32) []float32 {
	n := max(len(lambda), len(data))
	out := make([]float32, n)
	for i := range out {
		l, d := lambda[min(i, len(lambda)-1)], data[min(i, len(data)-1)]
		out[i] = l
		if d > 0 && d < l {
			out[i] = d
		}
	}
	return out
}
