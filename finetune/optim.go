package finetune

import (
	"fmt"
	"math"
)

// Optimizer selects the parameter update rule. The zero value is Adam.
type Optimizer uint8

const (
	// Adam is Adam (Kingma & Ba 2015) with β1 = 0.9, β2 = 0.999, ε = 1e-8
	// and decoupled weight decay (AdamW): w −= lr·(m̂/(√v̂+ε) + wd·w).
	Adam Optimizer = iota
	// SGD is stochastic gradient descent with heavy-ball momentum μ and L2
	// weight decay: v = μ·v + g + wd·w, w −= lr·v (PyTorch's SGD).
	SGD
)

// String returns "adam" or "sgd".
func (o Optimizer) String() string {
	switch o {
	case Adam:
		return "adam"
	case SGD:
		return "sgd"
	}
	return fmt.Sprintf("Optimizer(%d)", int(o))
}

// ParseOptimizer parses "adam" or "sgd".
func ParseOptimizer(s string) (Optimizer, error) {
	switch s {
	case "adam":
		return Adam, nil
	case "sgd":
		return SGD, nil
	}
	return 0, fmt.Errorf("finetune: unknown optimizer %q (want adam or sgd)", s)
}

// slots returns the number of state vectors per parameter.
func (o Optimizer) slots() int {
	if o == Adam {
		return 2
	}
	return 1
}

// Adam constants.
const (
	adamBeta1 = 0.9
	adamBeta2 = 0.999
	adamEps   = 1e-8
)

// minTheta bounds thresholds from below after every update, so that a
// trained model stays valid (θ > 0).
const minTheta = 1e-4

// optState is the optimizer's state: the number of updates done and, per
// parameter, Optimizer.slots() vectors of the parameter's length (SGD:
// the velocity; Adam: the first and second moments).
type optState struct {
	kind  Optimizer
	steps int64
	slots [][]float32 // param i, slot s at index i·slots + s
}

func newOptState(kind Optimizer, params []*param) *optState {
	o := &optState{kind: kind}
	for _, p := range params {
		for s := 0; s < kind.slots(); s++ {
			o.slots = append(o.slots, make([]float32, len(p.data)))
		}
	}
	return o
}

// update applies one step with learning rate lr to params given their
// gradients. Weight decay applies to weights only (not biases or
// thresholds); thresholds are kept ≥ minTheta; frozen thresholds are not
// updated.
func (o *optState) update(params []*param, grads [][]float32, lr float64, cfg *Config) {
	o.steps++
	ns := o.kind.slots()
	bc1 := 1 - math.Pow(adamBeta1, float64(o.steps))
	bc2 := 1 - math.Pow(adamBeta2, float64(o.steps))
	for i, p := range params {
		if p.kind == paramTheta && cfg.FreezeThresholds {
			continue
		}
		wd := float32(0)
		if p.kind == paramW {
			wd = float32(cfg.WeightDecay)
		}
		g, w := grads[i], p.data
		switch o.kind {
		case SGD:
			v := o.slots[i*ns]
			mu, l := float32(cfg.momentum()), float32(lr)
			for j := range w {
				v[j] = mu*v[j] + g[j] + wd*w[j]
				w[j] -= l * v[j]
			}
		default:
			m, v := o.slots[i*ns], o.slots[i*ns+1]
			for j := range w {
				gj := float64(g[j])
				m[j] = float32(adamBeta1*float64(m[j]) + (1-adamBeta1)*gj)
				v[j] = float32(adamBeta2*float64(v[j]) + (1-adamBeta2)*gj*gj)
				step := float64(m[j])/bc1/(math.Sqrt(float64(v[j])/bc2)+adamEps) + float64(wd)*float64(w[j])
				w[j] = float32(float64(w[j]) - lr*step)
			}
		}
		if p.kind == paramTheta {
			for j := range w {
				w[j] = max(w[j], minTheta)
			}
		}
	}
}

// cosineLR returns the learning rate at step s of total: the cosine
// annealing lr·(1 + cos(π·s/total))/2, from lr at s = 0 to 0 at s = total.
func cosineLR(lr float64, s, total int) float64 {
	if total <= 0 {
		return lr
	}
	return lr * (1 + math.Cos(math.Pi*float64(min(s, total))/float64(total))) / 2
}

// scheduleLR returns the learning rate at step s of total with a linear
// warm-up over the first warmup steps: cosineLR(lr, s, total) ·
// min(1, (s+1)/warmup); warmup ≤ 0 means none.
func scheduleLR(lr float64, s, total, warmup int) float64 {
	r := cosineLR(lr, s, total)
	if warmup > 0 && s+1 < warmup {
		r *= float64(s+1) / float64(warmup)
	}
	return r
}
