package finetune

import (
	"fmt"
	"math"
)

// Loss selects the training objective. The zero value is LossMean.
type Loss uint8

const (
	// LossMean is the cross-entropy of the mean output over the T steps,
	// (1/T)·Σ_t out_t: the read-out that evaluation uses.
	LossMean Loss = iota
	// LossTET is the temporal efficient training loss of Deng et al. 2022:
	// the cross-entropy of every step's output, averaged over the steps.
	LossTET
)

// String returns "mean" or "tet".
func (l Loss) String() string {
	switch l {
	case LossMean:
		return "mean"
	case LossTET:
		return "tet"
	}
	return fmt.Sprintf("Loss(%d)", int(l))
}

// ParseLoss parses "mean" (or "ce") and "tet".
func ParseLoss(s string) (Loss, error) {
	switch s {
	case "mean", "ce":
		return LossMean, nil
	case "tet":
		return LossTET, nil
	}
	return 0, fmt.Errorf("finetune: unknown loss %q (want mean or tet)", s)
}

// lossKernel computes the loss over N images from the output layer's
// values out [T,N,K] and one-hot labels [N,K] (not differentiated):
//
//	LossMean: (1/N)·Σ_n CE((1/T)·Σ_t out_{t,n}, y_n)
//	LossTET:  (1/(T·N))·Σ_{t,n} CE(out_{t,n}, y_n)
//
// with CE(z, y) = −Σ_k y_k·log softmax(z)_k, computed in float64.
type lossKernel struct {
	name    string
	t, n, k int
	loss    Loss
}

func (k *lossKernel) id() string    { return k.name }
func (k *lossKernel) inLens() []int { return []int{k.t * k.n * k.k, k.n * k.k} }
func (k *lossKernel) outLen() int   { return 0 }
func (k *lossKernel) diff() []bool  { return []bool{true, false} }

// logits returns the T·N or N rows the cross-entropy is taken over, and
// for each row its image.
func (k *lossKernel) rows(out []float32, f func(row, img int, z []float64)) {
	z := make([]float64, k.k)
	if k.loss == LossTET {
		for r := 0; r < k.t*k.n; r++ {
			for j, v := range out[r*k.k : (r+1)*k.k] {
				z[j] = float64(v)
			}
			f(r, r%k.n, z)
		}
		return
	}
	for n := 0; n < k.n; n++ {
		clear(z)
		for t := 0; t < k.t; t++ {
			for j, v := range out[(t*k.n+n)*k.k : (t*k.n+n+1)*k.k] {
				z[j] += float64(v)
			}
		}
		for j := range z {
			z[j] /= float64(k.t)
		}
		f(n, n, z)
	}
}

// softmax overwrites z with softmax(z) and returns log Σ exp(z).
func softmax(z []float64) float64 {
	m := math.Inf(-1)
	for _, v := range z {
		m = max(m, v)
	}
	var s float64
	for j, v := range z {
		z[j] = math.Exp(v - m)
		s += z[j]
	}
	for j := range z {
		z[j] /= s
	}
	return m + math.Log(s)
}

func (k *lossKernel) forward(out []float32, in [][]float32) {
	var total float64
	nrows := 0
	k.rows(in[0], func(_, img int, z []float64) {
		y := in[1][img*k.k : (img+1)*k.k]
		var dot, ysum float64
		for j, v := range z {
			dot += float64(y[j]) * v
			ysum += float64(y[j])
		}
		total += ysum*softmax(z) - dot
		nrows++
	})
	out[0] = float32(total / float64(nrows))
}

func (k *lossKernel) backward(gin [][]float32, in [][]float32, _, gout []float32) {
	nrows := k.n
	if k.loss == LossTET {
		nrows *= k.t
	}
	scale := float64(gout[0]) / float64(nrows)
	k.rows(in[0], func(row, img int, z []float64) {
		y := in[1][img*k.k : (img+1)*k.k]
		var ysum float64
		for _, v := range y {
			ysum += float64(v)
		}
		softmax(z)
		if k.loss == LossTET {
			g := gin[0][row*k.k : (row+1)*k.k]
			for j := range g {
				g[j] = float32(scale * (ysum*z[j] - float64(y[j])))
			}
			return
		}
		for t := 0; t < k.t; t++ {
			g := gin[0][(t*k.n+img)*k.k : (t*k.n+img+1)*k.k]
			for j := range g {
				g[j] = float32(scale * (ysum*z[j] - float64(y[j])) / float64(k.t))
			}
		}
	})
}

// rateKernel is the mean firing rate of an IF layer, the regulariser
// (1/|out|)·Σ out/θ_c over its output out [T,N,C,H,W] (spikes carry θ_c,
// so out/θ_c is the spike count) and θ.
type rateKernel struct {
	name         string
	t, n, c, hw  int
	nTheta       int
	inGrad, thGr bool
}

func (k *rateKernel) id() string    { return k.name }
func (k *rateKernel) inLens() []int { return []int{k.t * k.n * k.c * k.hw, k.nTheta} }
func (k *rateKernel) outLen() int   { return 0 }
func (k *rateKernel) diff() []bool  { return []bool{k.inGrad, k.thGr} }

func (k *rateKernel) theta(th []float32, c int) float32 {
	if len(th) == 1 {
		return th[0]
	}
	return th[c]
}

func (k *rateKernel) forward(out []float32, in [][]float32) {
	var s float64
	for p := 0; p < k.t*k.n*k.c; p++ {
		th := float64(k.theta(in[1], p%k.c))
		for _, v := range in[0][p*k.hw : (p+1)*k.hw] {
			s += float64(v) / th
		}
	}
	out[0] = float32(s / float64(k.t*k.n*k.c*k.hw))
}

func (k *rateKernel) backward(gin [][]float32, in [][]float32, _, gout []float32) {
	inv := float64(gout[0]) / float64(k.t*k.n*k.c*k.hw)
	gth := make([]float64, k.nTheta)
	for p := 0; p < k.t*k.n*k.c; p++ {
		c := p % k.c
		th := float64(k.theta(in[1], c))
		var s float64
		for j, v := range in[0][p*k.hw : (p+1)*k.hw] {
			s += float64(v)
			if gin[0] != nil {
				gin[0][p*k.hw+j] = float32(inv / th)
			}
		}
		gth[c%k.nTheta] -= inv * s / (th * th)
	}
	if gin[1] != nil {
		for i, v := range gth {
			gin[1][i] = float32(v)
		}
	}
}

// memKernel is the residual-membrane regulariser of an IF layer that
// resets by subtraction: with the membrane left after the last step
//
//	v_T = V0 + Σ_t x_t − Σ_t out_t        (out_t = s_t·θ, signed s_t too)
//
// it computes (1/(N·C·H·W))·Σ (v_T/θ_c − 1/2)² from the layer's input x,
// output out (both [T,N,C,H,W]) and θ. The gradient reaches the spikes
// through out and then the surrogate, like any other loss term.
type memKernel struct {
	name        string
	t, n, c, hw int
	nTheta      int
	v0          []float32 // per channel
	inGrad      bool      // x receives a gradient
}

func (k *memKernel) id() string { return k.name }
func (k *memKernel) inLens() []int {
	l := k.t * k.n * k.c * k.hw
	return []int{l, l, k.nTheta}
}
func (k *memKernel) outLen() int  { return 0 }
func (k *memKernel) diff() []bool { return []bool{k.inGrad, true, true} }

// residual calls f(p, j, v, θ) with v = v_T of neuron j of plane p (image
// n·C + channel).
func (k *memKernel) residual(in [][]float32, f func(p, j int, v, th float64)) {
	x, out, ths := in[0], in[1], in[2]
	for p := 0; p < k.n*k.c; p++ {
		c := p % k.c
		th := float64(ths[0])
		if len(ths) > 1 {
			th = float64(ths[c])
		}
		for j := 0; j < k.hw; j++ {
			v := float64(k.v0[c])
			for t := 0; t < k.t; t++ {
				i := (t*k.n*k.c+p)*k.hw + j
				v += float64(x[i]) - float64(out[i])
			}
			f(p, j, v, th)
		}
	}
}

func (k *memKernel) forward(out []float32, in [][]float32) {
	var s float64
	k.residual(in, func(_, _ int, v, th float64) {
		d := v/th - 0.5
		s += d * d
	})
	out[0] = float32(s / float64(k.n*k.c*k.hw))
}

func (k *memKernel) backward(gin [][]float32, in [][]float32, _, gout []float32) {
	scale := float64(gout[0]) / float64(k.n*k.c*k.hw)
	gth := make([]float64, k.nTheta)
	k.residual(in, func(p, j int, v, th float64) {
		c := p % k.c
		dv := scale * 2 * (v/th - 0.5) / th // ∂R/∂v_T
		for t := 0; t < k.t; t++ {
			i := (t*k.n*k.c+p)*k.hw + j
			if gin[0] != nil {
				gin[0][i] = float32(dv)
			}
			gin[1][i] = float32(-dv)
		}
		gth[c%k.nTheta] -= dv * v / th // ∂R/∂θ at fixed v_T
	})
	for i, v := range gth {
		gin[2][i] = float32(v)
	}
}
