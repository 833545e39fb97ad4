package finetune

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/ann2snn/ann2snn/dataset"
	"github.com/ann2snn/ann2snn/snnrt"
)

// Config controls fine-tuning. The zero value is usable except for T.
type Config struct {
	// T is the number of time steps the SNN is unrolled over, ≥ 1.
	T int
	// Batch is the number of images per step; 0 means 32. The last
	// incomplete batch of an epoch is skipped.
	Batch int
	// Epochs is the length of the cosine learning-rate schedule; 0 means 1.
	Epochs int
	// Surrogate replaces the spike function's derivative; nil means
	// Arctan{2}.
	Surrogate Surrogate
	// WidthAnneal > 1 anneals every surrogate's width from WidthAnneal
	// times Surrogate's width at the first step to Surrogate's width at the
	// last (cosine schedule over all steps); 0 or 1: fixed width; values
	// in (0, 1) are refused.
	WidthAnneal float32
	// AutoWidth chooses a width factor per IF layer before the first step
	// by agreement with finite differences of the spiking loss
	// (Dspike-style; see widths.go). It multiplies the annealed width.
	AutoWidth bool
	// Loss is the objective; the zero value is LossMean.
	Loss Loss
	// RateReg > 0 adds RateReg times the mean firing rate of the IF
	// layers (spikes per neuron per step, averaged over layers) to the loss.
	RateReg float32
	// MemReg > 0 adds MemReg times the residual-membrane regulariser,
	// averaged over the IF layers, to the loss: the mean of
	// (v_T/θ − 1/2)² over neurons, v_T the membrane left after the last
	// step. A neuron whose residual stays in [0, θ) has fired the rounded
	// count of its input (no unevenness error, Bu et al. 2022); the term
	// pulls residuals to the middle of that range. Needs reset by
	// subtraction (*UnsupportedError otherwise).
	MemReg float32
	// Optimizer is the update rule; the zero value is Adam.
	Optimizer Optimizer
	// LR is the initial learning rate, annealed to 0 by a cosine schedule
	// over Epochs; 0 means 1e-4 for Adam and 1e-3 for SGD.
	LR float64
	// Warmup > 0 multiplies the learning rate of step s (0-based, counted
	// over the run) by min(1, (s+1)/Warmup): a linear warm-up over the
	// first Warmup steps on top of the cosine schedule. 0: none.
	Warmup int
	// Momentum is SGD's momentum; 0 means 0.9.
	Momentum float64
	// WeightDecay is the weight decay of Conv and Linear weights (not of
	// biases and thresholds); 0 means none.
	WeightDecay float64
	// Augment enables random crops with 4-pixel zero padding and random
	// horizontal flips (the usual CIFAR augmentation).
	Augment bool
	// Seed seeds the training subset, the shuffling (a fresh permutation
	// each epoch) and the augmentation: the same seed gives the same loss
	// curve.
	Seed uint64
	// Subset > 0 trains on a fixed random sample of Subset training images
	// (drawn with Seed) instead of all.
	Subset int
	// FreezeThresholds keeps the thresholds θ fixed (only weights and
	// biases are trained).
	FreezeThresholds bool
	// Data names the training data (the command line's --data and
	// --split); it is recorded in a checkpoint, and Resume refuses other
	// data. Empty: not recorded.
	Data string
	// Val > 0 holds out Val images of the training set as a validation
	// set, never trained on: a sample fixed by Seed, drawn before Subset
	// and disjoint from the training images (see splitVal). Trainer.Validate
	// measures the SNN on it and keeps the best parameters; Run validates
	// before training, after every epoch and every ValEvery steps, and
	// writes the best model. 0: no validation.
	Val int
	// ValEvery > 0 also validates every ValEvery training steps (counted
	// over the whole run); needs Val. 0: after every epoch only.
	ValEvery int
}

func (c *Config) batch() int {
	if c.Batch <= 0 {
		return 32
	}
	return c.Batch
}

func (c *Config) epochs() int { return max(c.Epochs, 1) }

func (c *Config) surrogate() Surrogate {
	if c.Surrogate == nil {
		return Arctan{2}
	}
	return c.Surrogate
}

func (c *Config) lr() float64 {
	switch {
	case c.LR > 0:
		return c.LR
	case c.Optimizer == SGD:
		return 1e-3
	}
	return 1e-4
}

func (c *Config) momentum() float64 {
	if c.Momentum == 0 {
		return 0.9
	}
	return c.Momentum
}

func (c *Config) validate() error {
	switch {
	case c.T < 1 || c.T > snnrt.MaxT:
		return fmt.Errorf("finetune: T = %d, want 1..%d", c.T, snnrt.MaxT)
	case c.Batch < 0 || c.Epochs < 0 || c.Subset < 0 || c.Val < 0 || c.ValEvery < 0 || c.Warmup < 0:
		return fmt.Errorf("finetune: negative batch, epochs, subset, validation images, validation interval or warm-up")
	case c.ValEvery > 0 && c.Val == 0:
		return fmt.Errorf("finetune: a validation interval (ValEvery %d) needs validation images (Val)", c.ValEvery)
	case c.LR < 0 || c.WeightDecay < 0 || c.Momentum < 0 || c.Momentum >= 1 || c.RateReg < 0 || c.MemReg < 0:
		return fmt.Errorf("finetune: learning rate, weight decay and rate regulariser must be ≥ 0, momentum in [0,1)")
	case c.WidthAnneal < 0 || c.WidthAnneal > 0 && c.WidthAnneal < 1 || math.IsNaN(float64(c.WidthAnneal)) || math.IsInf(float64(c.WidthAnneal), 0):
		return fmt.Errorf("finetune: width anneal factor %v, want 0 (off) or a finite factor ≥ 1", c.WidthAnneal)
	case c.Optimizer != Adam && c.Optimizer != SGD:
		return fmt.Errorf("finetune: unknown optimizer %d", int(c.Optimizer))
	case c.Loss != LossMean && c.Loss != LossTET:
		return fmt.Errorf("finetune: unknown loss %d", int(c.Loss))
	}
	return nil
}

// StepStats describes one training step.
type StepStats struct {
	Epoch, Step int     // 0-based position of the step
	Loss        float64 // loss of the batch (before the update)
	Correct     int     // images of the batch whose accumulated output's argmax is the label
	Images      int     // batch size
	LR          float64 // learning rate used
}

// EpochStats sums the steps of one (part of an) epoch.
type EpochStats struct {
	Epoch   int
	Steps   int
	Images  int
	Loss    float64 // mean batch loss
	Correct int
}

// Accuracy returns Correct/Images (0 for no images).
func (e EpochStats) Accuracy() float64 {
	if e.Images == 0 {
		return 0
	}
	return float64(e.Correct) / float64(e.Images)
}

// Trainer fine-tunes an SNN on a training set. It owns a copy of the
// model; Model returns the current parameters. A Trainer is not safe for
// concurrent use.
type Trainer struct {
	cfg   Config
	net   *net
	opt   *optState
	train *dataset.Dataset
	pre   dataset.Preprocess
	pad   []float32
	// widths are AutoWidth's per-layer width factors (nil: not chosen).
	widths map[int]float32
	// Position of the next step.
	epoch, step int
	// val is the held-out validation set (Config.Val; nil: none) and vs
	// the validation state (val.go).
	val *dataset.Dataset
	vs  valState
}

// New returns a Trainer for m on the training images train (labelled,
// of m's input shape) preprocessed by pre. It returns an error if the
// model is invalid or uses a feature fine-tuning lacks
// (*UnsupportedError), or the data do not fit.
func New(m *snnrt.Model, train *dataset.Dataset, pre dataset.Preprocess, cfg Config) (*Trainer, error) {
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	if !train.Labeled() {
		return nil, fmt.Errorf("finetune: the training set has no labels")
	}
	if s := train.Shape(); s != [3]int{m.Input.C, m.Input.H, m.Input.W} {
		return nil, fmt.Errorf("finetune: training images are %dx%dx%d, the model wants %v", s[0], s[1], s[2], m.Input)
	}
	if err := pre.Validate(m.Input.C); err != nil {
		return nil, err
	}
	var val *dataset.Dataset
	switch {
	case cfg.Val > 0:
		var err error
		if train, val, err = splitVal(train, cfg.Val, cfg.Subset, cfg.Seed); err != nil {
			return nil, err
		}
	case cfg.Subset > 0 && cfg.Subset < train.Len():
		var err error
		if train, err = train.Subset(train.Sample(cfg.Subset, cfg.Seed)); err != nil {
			return nil, err
		}
	}
	if train.Len() == 0 {
		return nil, fmt.Errorf("finetune: the training set is empty")
	}
	if err := m.Validate(); err != nil {
		return nil, err
	}
	if k, classes := train.NumClasses(), m.Layers[m.Output].Shape.Len(); k > classes {
		return nil, fmt.Errorf("finetune: labels go up to %d, the model has %d outputs", k-1, classes)
	}
	n := min(cfg.batch(), train.Len())
	nt, err := newNet(m, netOptions{t: cfg.T, n: n, surrogate: cfg.surrogate(), loss: cfg.Loss, rateReg: cfg.RateReg, memReg: cfg.MemReg})
	if err != nil {
		return nil, err
	}
	return &Trainer{cfg: cfg, net: nt, opt: newOptState(cfg.Optimizer, nt.params), train: train, pre: pre,
		pad: padValues(pre, m.Input.C), val: val}, nil
}

// StepsPerEpoch returns the number of steps of one epoch.
func (tr *Trainer) StepsPerEpoch() int { return tr.train.Len() / tr.net.opt.n }

// TrainImages returns the number of training images (after Subset).
func (tr *Trainer) TrainImages() int { return tr.train.Len() }

// Position returns the epoch and step (0-based) the next step will run.
func (tr *Trainer) Position() (epoch, step int) { return tr.epoch, tr.step }

// Done reports whether all Config.Epochs epochs have run.
func (tr *Trainer) Done() bool { return tr.epoch >= tr.cfg.epochs() }

// Model returns a copy of the model with the current parameters. Its
// metadata keeps the original keys (preprocessing, provenance) and records
// the training position (finetune.epoch, finetune.step: the next step)
// and settings (finetune.t, .loss, .surrogate, .optimizer, .lr, ...).
func (tr *Trainer) Model() *snnrt.Model {
	m := cloneModel(tr.net.m)
	c := &tr.cfg
	for k, v := range map[string]string{
		metaEpoch: fmt.Sprint(tr.epoch), metaStep: fmt.Sprint(tr.step),
		"finetune.t": fmt.Sprint(c.T), "finetune.epochs": fmt.Sprint(c.epochs()),
		"finetune.batch": fmt.Sprint(tr.net.opt.n), "finetune.images": fmt.Sprint(tr.train.Len()),
		"finetune.loss": c.Loss.String(), "finetune.surrogate": c.surrogate().String(),
		"finetune.optimizer": c.Optimizer.String(), "finetune.lr": fmt.Sprint(c.lr()),
		"finetune.seed": fmt.Sprint(c.Seed),
	} {
		m.Metadata[k] = v
	}
	if c.MemReg > 0 {
		m.Metadata["finetune.mem-reg"] = ftoa(c.MemReg)
	}
	if c.WidthAnneal > 1 {
		m.Metadata["finetune.width-anneal"] = ftoa(c.WidthAnneal)
	}
	if c.Val > 0 {
		m.Metadata["finetune.val"] = fmt.Sprint(c.Val)
	}
	if c.Warmup > 0 {
		m.Metadata["finetune.warmup"] = fmt.Sprint(c.Warmup)
	}
	if tr.widths != nil {
		m.Metadata[metaWidths] = formatWidths(tr.widths)
	}
	return m
}

// order returns the image order of epoch e: a seeded permutation.
func (tr *Trainer) order(e int) []int {
	return tr.train.Sample(tr.train.Len(), tr.cfg.Seed^(uint64(e+1)*0x9e3779b97f4a7c15))
}

// RunEpoch runs the remaining steps of the current epoch, calling onStep
// (if not nil) after each, and moves to the next epoch. If ctx is
// cancelled it stops before the next step and returns ctx.Err(); the
// position then says where to resume.
func (tr *Trainer) RunEpoch(ctx context.Context, onStep func(StepStats)) (EpochStats, error) {
	return tr.RunSteps(ctx, tr.StepsPerEpoch(), onStep)
}

// RunSteps runs at most steps of the remaining steps of the current epoch,
// calling onStep (if not nil) after each; after the epoch's last step it
// moves to the next epoch. The returned stats cover the steps run; after
// Done it runs nothing.
// Cancellation is as for RunEpoch. RunSteps(ctx, k, f) followed by
// RunSteps(ctx, m, f) trains exactly as one RunSteps(ctx, k+m, f) within
// an epoch.
func (tr *Trainer) RunSteps(ctx context.Context, steps int, onStep func(StepStats)) (EpochStats, error) {
	es := EpochStats{Epoch: tr.epoch}
	if tr.Done() {
		return es, nil
	}
	n := tr.net.opt.n
	per := tr.net.m.Input.Len()
	x := make([]float32, n*per)
	scratch := make([]float32, per)
	labels := make([]int, n)
	order := tr.order(tr.epoch)
	total := tr.StepsPerEpoch() * tr.cfg.epochs()
	grads := make([][]float32, len(tr.net.params))
	if err := tr.ensureWidths(ctx); err != nil {
		return es, err
	}
	for tr.step < tr.StepsPerEpoch() && es.Steps < steps {
		if err := ctx.Err(); err != nil {
			return es, err
		}
		idx := order[tr.step*n : (tr.step+1)*n]
		var rng *rand.Rand
		if tr.cfg.Augment {
			rng = rand.New(rand.NewPCG(tr.cfg.Seed, uint64(tr.epoch)<<32|uint64(tr.step)))
		}
		s := tr.net.m.Input
		for i, j := range idx {
			if _, err := tr.train.Batch(x[i*per:(i+1)*per], j, 1, tr.pre); err != nil {
				return es, err
			}
			labels[i] = tr.train.Label(j)
			if rng != nil {
				augment(x[i*per:(i+1)*per], scratch, s.C, s.H, s.W, tr.pad, rng)
			}
		}
		tr.applyWidths()
		loss, out, err := tr.net.run(x, labels)
		if err != nil {
			return es, err
		}
		st := StepStats{Epoch: tr.epoch, Step: tr.step, Loss: float64(loss), Images: n,
			Correct: correct(out, labels, tr.cfg.T), LR: scheduleLR(tr.cfg.lr(), tr.epoch*tr.StepsPerEpoch()+tr.step, total, tr.cfg.Warmup)}
		for i, p := range tr.net.params {
			grads[i] = tr.net.grad(p)
		}
		tr.opt.update(tr.net.params, grads, st.LR, &tr.cfg)
		tr.step++
		es.Steps++
		es.Images += n
		es.Correct += st.Correct
		es.Loss += (st.Loss - es.Loss) / float64(es.Steps)
		if onStep != nil {
			onStep(st)
		}
	}
	if tr.step == tr.StepsPerEpoch() {
		tr.epoch++
		tr.step = 0
	}
	return es, nil
}

// correct counts the images whose accumulated output (summed over the T
// steps of out [T,N,K]) has its maximum (first on ties) at the label.
func correct(out []float32, labels []int, t int) int {
	n := len(labels)
	k := len(out) / (t * n)
	acc := make([]float32, k)
	c := 0
	for i, l := range labels {
		clear(acc)
		for s := 0; s < t; s++ {
			for j, v := range out[(s*n+i)*k : (s*n+i+1)*k] {
				acc[j] += v
			}
		}
		best := 0
		for j, v := range acc {
			if v > acc[best] {
				best = j
			}
		}
		if best == l {
			c++
		}
	}
	return c
}

// Train fine-tunes m on train for cfg.Epochs epochs and returns the tuned
// model; m is not modified. It is New followed by RunEpoch until Done, for
// library users who need no checkpoints or progress (the CLI drives the
// Trainer itself to save a checkpoint after every epoch).
func Train(ctx context.Context, m *snnrt.Model, train *dataset.Dataset, pre dataset.Preprocess, cfg Config) (*snnrt.Model, error) {
	tr, err := New(m, train, pre, cfg)
	if err != nil {
		return nil, err
	}
	for !tr.Done() {
		if _, err := tr.RunEpoch(ctx, nil); err != nil {
			return nil, err
		}
	}
	return tr.Model(), nil
}
