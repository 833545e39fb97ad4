package kernels

import "math"

// Relu sets v[i] = v[i] if v[i] > 0, else 0 (so NaN and −0 become +0), the
// ONNX Relu as importer.Eval computes it. With AVX-512 it runs 16 lanes at
// a time (VMAXPS, whose operand order gives exactly this NaN and zero
// behaviour); the result is bit-identical to the portable loop.
func Relu(v []float32) {
	n := 0
	if haveAVX512Kernel() {
		n = len(v) &^ 15
		if n > 0 {
			reluAVX512(&v[0], n)
		}
	}
	reluGo(v[n:])
}

// reluGo is the portable Relu; keep in sync with reluAVX512
// (TestElementwiseKernels compares them).
func reluGo(v []float32) {
	for i, x := range v {
		if !(x > 0) {
			v[i] = 0
		}
	}
}

// Quantize sets each v[i] to s·clip(⌊v[i]·a + b⌋, lo, hi), rounding to
// float32 after every operation, where clip(y, lo, hi) is "if y < lo then
// lo; then if y > hi then hi" (NaN stays NaN). It is the QCFS quantiser
// chain Mul, Add, Floor, Clip, Mul of an exported graph, bit-identical to
// evaluating those nodes one by one. With AVX-512 it runs 16 lanes at a
// time; the result is bit-identical to the portable loop.
func Quantize(v []float32, a, b, lo, hi, s float32) {
	n := 0
	if haveAVX512Kernel() {
		n = len(v) &^ 15
		if n > 0 {
			quantizeAVX512(&v[0], n, a, b, lo, hi, s)
		}
	}
	quantizeGo(v[n:], a, b, lo, hi, s)
}

// quantizeGo is the portable Quantize; keep in sync with quantizeAVX512
// (TestElementwiseKernels compares them).
func quantizeGo(v []float32, a, b, lo, hi, s float32) {
	for i, x := range v {
		y := float32(x * a)
		y = float32(y + b)
		y = float32(math.Floor(float64(y)))
		if y < lo {
			y = lo
		}
		if y > hi {
			y = hi
		}
		v[i] = float32(y * s)
	}
}
