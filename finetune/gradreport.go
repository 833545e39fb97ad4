package finetune

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/ann2snn/ann2snn/snnrt"
)

// The gradient report compares the surrogate gradient with a reference
// gradient of the same loss on the same images.
//
// Reference. The loss of one image is piecewise constant in the inputs of
// a spiking layer, but the loss averaged over many images and neurons is
// not: a small shift of a layer's input current moves a few of its
// neurons across their thresholds, and the mean loss changes in proportion
// (the expected loss is differentiable although no single spike train
// is). Its gradient is the quantity the surrogate gradient stands in for.
// GradReport estimates it by central finite differences of the true
// spiking loss (hard spikes, the simulator's forward pass) along K random
// Gaussian directions u_k:
//
//	d_k = (L(x + u_k) − L(x − u_k)) / 2  ≈  ∇L · u_k
//
// and compares d with the surrogate gradient's projections a_k = g · u_k.
// For Gaussian directions E[a·d] = gᵀΣ∇L, so the cosine of the vectors
// a and d (over k) estimates the cosine of g and ∇L in the metric of the
// perturbation covariance Σ, and ‖a‖/‖d‖ the ratio of their sizes (> 1:
// the surrogate overstates the gradient). The finite difference does not
// depend on the surrogate, so one measurement ranks all surrogates; it is
// deterministic for a seed. The alternatives were rejected: the ANN's
// gradient at the converted operating point is the gradient of another
// loss (the ANN's), which at T = 1 or 2 differs from the SNN's by the very
// error fine-tuning removes, and a straight-through estimate is itself a
// surrogate (the rectangular one).
//
// Probes. Each IF layer and step t is one probe: the perturbation is added
// to the layer's input current x_t (per element N(0, (Epsilon·θ)²), θ the
// neuron's threshold) and g = ∂L/∂x_t, whose norm shows how the gradient
// grows or vanishes through depth and time. With ReportConfig.Weights each
// Conv and Linear weight tensor is a probe too (per element
// N(0, (Epsilon·rms W)²)): the gradient the optimiser uses.

// ReportConfig controls Trainer.GradReport. The zero value is usable.
type ReportConfig struct {
	// Directions is the number K of random directions per probe; 0 means 8.
	Directions int
	// Epsilon is the perturbation's standard deviation relative to the
	// threshold θ (inputs of IF layers) or to the weights' root mean square
	// (weight probes); 0 means 0.2. The reference is the gradient of the
	// loss smoothed at this scale: on LeNet at T = 2 its agreement with
	// atan:2 is about 0.14 at ε = 0.05 and 0.52 at ε = 0.2, on 32 and on
	// 128 images alike (docs/methods.md).
	Epsilon float32
	// Images is the number of training images measured on, in whole
	// batches of the Trainer's batch size (at least one); 0 means one
	// batch. The images are drawn with Seed and not augmented.
	Images int
	// Seed seeds the images and the directions.
	Seed uint64
	// Weights adds one probe per Conv and Linear weight tensor.
	Weights bool
}

func (rc *ReportConfig) directions() int {
	if rc.Directions <= 0 {
		return 8
	}
	return rc.Directions
}

func (rc *ReportConfig) epsilon() float32 {
	if rc.Epsilon <= 0 {
		return 0.2
	}
	return rc.Epsilon
}

// Probe is one row of a GradReport.
type Probe struct {
	Layer int    `json:"layer"` // index of the layer in the model
	Name  string `json:"name"`  // the layer's name
	// What is "input" (the input current of an IF layer at Step) or "W"
	// (the weights of a Conv or Linear layer; Step is −1).
	What string `json:"what"`
	Step int    `json:"step"`
	// Norm is the Euclidean norm of the surrogate gradient (for inputs,
	// the root mean square over batches of each batch's gradient).
	Norm float64 `json:"norm"`
	// Cosine is the agreement of the surrogate gradient with the
	// finite-difference reference (1: same direction, 0: unrelated).
	Cosine float64 `json:"cosine"`
	// Ratio is ‖a‖/‖d‖, the surrogate's projections over the reference's.
	Ratio float64 `json:"ratio"`
}

// GradReport is the result of Trainer.GradReport.
type GradReport struct {
	Epoch      int     `json:"epoch"` // training position the report was made at
	Step       int     `json:"step"`
	Surrogate  string  `json:"surrogate"` // the surrogate, widths applied, of the first IF layer
	Loss       float64 `json:"loss"`      // mean loss of the batches
	Images     int     `json:"images"`
	Directions int     `json:"directions"`
	Epsilon    float64 `json:"epsilon"`
	Probes     []Probe `json:"probes"`
	// MeanCosine is the mean Cosine of the input probes, MeanCosineW of
	// the weight probes (0 without them).
	MeanCosine  float64 `json:"mean_cosine"`
	MeanCosineW float64 `json:"mean_cosine_w,omitempty"`
}

// probeSpec says where a probe perturbs: IF layer and step, or a
// parameter (param ≥ 0, an index into net.params).
type probeSpec struct {
	layer, step, param int
}

// GradReport measures the surrogate gradient against finite differences
// of the spiking loss (see the comment above ReportConfig) at the current
// parameters and training position (the surrogate widths of the next
// step), on rc.Images training images. It does not change the Trainer's
// parameters or position. Cost: 2·K forward passes per probe and batch.
func (tr *Trainer) GradReport(ctx context.Context, rc ReportConfig) (*GradReport, error) {
	reps, err := tr.GradReports(ctx, rc, nil)
	if err != nil {
		return nil, err
	}
	return reps[0], nil
}

// GradReports is GradReport for each of several surrogates (in place of
// Config.Surrogate, the widths applied as for the next step) against one
// finite-difference reference, which costs no more than one report; nil
// or empty means the Trainer's own surrogate.
func (tr *Trainer) GradReports(ctx context.Context, rc ReportConfig, surrogates []Surrogate) ([]*GradReport, error) {
	if err := tr.ensureWidths(ctx); err != nil {
		return nil, err
	}
	nt := tr.net
	base := nt.opt.surrogate
	defer func() {
		nt.opt.surrogate = base
		tr.applyWidths()
	}()
	if len(surrogates) == 0 {
		surrogates = []Surrogate{base}
	}
	n := nt.opt.n
	batches := max(1, min(rc.Images/n, tr.train.Len()/n))
	idx := tr.train.Sample(batches*n, rc.Seed)
	fd, err := newForwardNet(nt)
	if err != nil {
		return nil, err
	}
	var specs []probeSpec
	for i := range nt.m.Layers {
		if k := nt.ifs[i]; k != nil && k.inGrad {
			for t := 0; t < nt.opt.t; t++ {
				specs = append(specs, probeSpec{layer: i, step: t, param: -1})
			}
		}
	}
	if rc.Weights {
		for j, p := range nt.params {
			if p.kind == paramW {
				specs = append(specs, probeSpec{layer: p.layer, step: -1, param: j})
			}
		}
	}
	K := rc.directions()
	nv := len(surrogates)
	// Per surrogate v and probe i: projections a, squared norms sq (inputs)
	// or the summed gradient wsum (weights); d is the reference.
	a := make([][][]float64, nv)
	sq := make([][]float64, nv)
	wsum := make([][][]float64, nv)
	reps := make([]*GradReport, nv)
	for v := range surrogates {
		a[v], sq[v], wsum[v] = make([][]float64, len(specs)), make([]float64, len(specs)), make([][]float64, len(specs))
		for i := range specs {
			a[v][i] = make([]float64, K)
		}
		reps[v] = &GradReport{Epoch: tr.epoch, Step: tr.step, Images: batches * n, Directions: K,
			Epsilon: float64(rc.epsilon())}
	}
	d := make([][]float64, len(specs))
	for i := range specs {
		d[i] = make([]float64, K)
	}
	x := make([]float32, n*nt.m.Input.Len())
	labels := make([]int, n)
	for b := 0; b < batches; b++ {
		if err := tr.loadBatch(x, labels, idx[b*n:(b+1)*n]); err != nil {
			return nil, err
		}
		dirs := make([][][]float32, len(specs))
		for i, s := range specs {
			for k := 0; k < K; k++ {
				dirs[i] = append(dirs[i], tr.direction(fd, s, rc, b, k))
			}
		}
		for v, sur := range surrogates {
			nt.opt.surrogate = sur
			tr.applyWidths()
			if b == 0 {
				for _, i := range sortedIFs(nt) {
					reps[v].Surrogate = nt.ifs[i].sur.String()
					break
				}
			}
			loss, grads, err := tr.surrogateGrads(x, labels, specs)
			if err != nil {
				return nil, err
			}
			reps[v].Loss += float64(loss) / float64(batches)
			for i, s := range specs {
				g := grads[i]
				if s.param >= 0 {
					if wsum[v][i] == nil {
						wsum[v][i] = make([]float64, len(g))
					}
					for j, x := range g {
						wsum[v][i][j] += float64(x)
					}
				} else {
					sq[v][i] += dot64(g, g)
				}
				for k, u := range dirs[i] {
					a[v][i][k] += dot64(g, u)
				}
			}
		}
		for i, s := range specs {
			for k, u := range dirs[i] {
				if err := ctx.Err(); err != nil {
					return nil, err
				}
				dk, err := fdProjection(fd, s, u, x, labels)
				if err != nil {
					return nil, err
				}
				d[i][k] += dk
			}
		}
	}
	for v, rep := range reps {
		var nIn, nW int
		for i, s := range specs {
			p := Probe{Layer: s.layer, Name: ifLayerName(nt.m, s.layer), What: "input", Step: s.step}
			if s.param >= 0 {
				p.What = "W"
				var ss float64
				for _, g := range wsum[v][i] {
					ss += (g / float64(batches)) * (g / float64(batches))
				}
				p.Norm = math.Sqrt(ss)
			} else {
				p.Norm = math.Sqrt(sq[v][i] / float64(batches))
			}
			p.Cosine, p.Ratio = cosineRatio(a[v][i], d[i])
			rep.Probes = append(rep.Probes, p)
			if s.param >= 0 {
				rep.MeanCosineW += p.Cosine
				nW++
			} else {
				rep.MeanCosine += p.Cosine
				nIn++
			}
		}
		if nIn > 0 {
			rep.MeanCosine /= float64(nIn)
		}
		if nW > 0 {
			rep.MeanCosineW /= float64(nW)
		}
	}
	return reps, nil
}

// newForwardNet returns a forward-only copy of nt (same model, options
// and surrogate; its own parameters, which probes may perturb).
func newForwardNet(nt *net) (*net, error) {
	o := nt.opt
	o.noGrad, o.trace = true, false
	return newNet(nt.m, o)
}

// sortedIFs returns the indices of the net's IF layers in ascending order.
func sortedIFs(nt *net) []int {
	var s []int
	for i := range nt.m.Layers {
		if nt.ifs[i] != nil {
			s = append(s, i)
		}
	}
	return s
}

// loadBatch fills x and labels with the training images idx (no
// augmentation).
func (tr *Trainer) loadBatch(x []float32, labels []int, idx []int) error {
	per := tr.net.m.Input.Len()
	for i, j := range idx {
		if _, err := tr.train.Batch(x[i*per:(i+1)*per], j, 1, tr.pre); err != nil {
			return err
		}
		labels[i] = tr.train.Label(j)
	}
	return nil
}

// surrogateGrads runs the training net on one batch and returns the loss
// and, per probe, a copy of the surrogate gradient: of the IF layer's input
// at the probe's step ([N,C,H,W]), or of the parameter.
func (tr *Trainer) surrogateGrads(x []float32, labels []int, specs []probeSpec) (float32, [][]float32, error) {
	nt := tr.net
	for _, k := range nt.ifs {
		if k.inGrad {
			k.record = make([]float32, k.outLen())
		}
	}
	defer func() {
		for _, k := range nt.ifs {
			k.record = nil
		}
	}()
	loss, _, err := nt.run(x, labels)
	if err != nil {
		return 0, nil, err
	}
	out := make([][]float32, len(specs))
	for i, s := range specs {
		if s.param >= 0 {
			out[i] = append([]float32(nil), nt.grad(nt.params[s.param])...)
			continue
		}
		k := nt.ifs[s.layer]
		per := k.n * k.c * k.hw
		out[i] = append([]float32(nil), k.record[s.step*per:(s.step+1)*per]...)
	}
	return loss, out, nil
}

// direction returns the k-th random direction of probe s on batch b: a
// Gaussian vector with per-element standard deviation Epsilon·θ (the
// neuron's threshold) or Epsilon·rms(W). It depends only on the seed, the
// probe, b and k.
func (tr *Trainer) direction(fd *net, s probeSpec, rc ReportConfig, b, k int) []float32 {
	h := uint64(s.layer)<<40 ^ uint64(s.step+1)<<32 ^ uint64(s.param+1)<<24 ^ uint64(b)<<12 ^ uint64(k)
	r := rand.New(rand.NewPCG(rc.Seed, h^0x5851f42d4c957f2d))
	eps := float64(rc.epsilon())
	if s.param >= 0 {
		w := fd.params[s.param].data
		rms := math.Sqrt(dot64(w, w) / float64(max(len(w), 1)))
		u := make([]float32, len(w))
		for j := range u {
			u[j] = float32(eps * rms * r.NormFloat64())
		}
		return u
	}
	ik := fd.ifs[s.layer]
	th := fd.m.Layers[s.layer].IF.Theta
	u := make([]float32, ik.n*ik.c*ik.hw)
	for j := range u {
		c := (j / ik.hw) % ik.c
		u[j] = float32(eps * float64(ik.theta(th, c)) * r.NormFloat64())
	}
	return u
}

// fdProjection returns (L(+u) − L(−u))/2 for the forward-only net fd,
// u perturbing the probe's IF input at its step or its parameter.
func fdProjection(fd *net, s probeSpec, u, x []float32, labels []int) (float64, error) {
	var set func(sign float32)
	if s.param >= 0 {
		w := fd.params[s.param].data
		orig := append([]float32(nil), w...)
		defer copy(w, orig)
		set = func(sign float32) {
			for j, v := range u {
				w[j] = orig[j] + sign*v
			}
		}
	} else {
		k := fd.ifs[s.layer]
		buf := make([]float32, k.outLen())
		per := len(u)
		k.perturb = buf
		defer func() { k.perturb = nil }()
		set = func(sign float32) {
			for j, v := range u {
				buf[s.step*per+j] = sign * v
			}
		}
	}
	var l [2]float64
	for i, sign := range []float32{1, -1} {
		set(sign)
		loss, _, err := fd.run(x, labels)
		if err != nil {
			return 0, err
		}
		l[i] = float64(loss)
	}
	return (l[0] - l[1]) / 2, nil
}

func dot64(a, b []float32) float64 {
	var s float64
	for i, v := range a {
		s += float64(v) * float64(b[i])
	}
	return s
}

// cosineRatio returns a·d/(‖a‖‖d‖) and ‖a‖/‖d‖ (0 and +Inf or NaN
// conventions avoided: 0 when a norm is 0).
func cosineRatio(a, d []float64) (cos, ratio float64) {
	var ad, aa, dd float64
	for k := range a {
		ad += a[k] * d[k]
		aa += a[k] * a[k]
		dd += d[k] * d[k]
	}
	if aa == 0 || dd == 0 {
		return 0, 0
	}
	return ad / math.Sqrt(aa*dd), math.Sqrt(aa / dd)
}

// ifLayerName returns a printable name of layer i of m.
func ifLayerName(m *snnrt.Model, i int) string {
	if n := m.Layers[i].Name; n != "" {
		return n
	}
	return fmt.Sprintf("layer%d", i)
}
