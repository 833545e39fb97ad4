package importer

import (
	"fmt"
	"math"
)

// Cast converts between the element types that a Tensor can hold. Float
// targets (float, double, float16) give a float tensor (Data); integer and
// bool targets (int32, int64, bool) give an integer tensor (Ints, bool as 0
// or 1). double is held as float32 like every float; float16 rounds each
// value to the nearest binary16 (ties to even) and holds the result as
// float32. Other targets (8/16-bit and unsigned integers, bfloat16, string)
// are refused at import.

// castTargets lists the supported values of Cast's "to" attribute. The
// opset 19 "saturate" attribute only concerns float8 targets, which are
// refused, so it is ignored.
var castTargets = map[int64]bool{dtFloat: true, dtDouble: true, dtFloat16: true, dtInt32: true, dtInt64: true, dtBool: true}

func checkCast(n *Node) error {
	to, ok := n.Attrs["to"].(int64)
	if !ok {
		return nodeErr(n, fmt.Errorf("no \"to\" attribute"))
	}
	if !castTargets[to] {
		return unsupportedAttr(n, "Cast to %s", dtypeName(int32(to)))
	}
	return nil
}

// evalCast converts x to the element type of attribute "to". Float to
// integer conversion truncates toward zero and fails on NaN, ±Inf or values
// outside the target range (ONNX leaves those undefined).
func evalCast(n *Node, in []*Tensor) ([]*Tensor, error) {
	x := in[0]
	to := n.Attrs.Int("to", 0)
	out := &Tensor{Shape: clone(x.Shape)}
	switch to {
	case dtFloat, dtDouble, dtFloat16:
		out.Data = append([]float32{}, x.Floats()...)
		if to == dtFloat16 {
			for i, v := range out.Data {
				out.Data[i] = roundHalf(v)
			}
		}
		return []*Tensor{out}, nil
	case dtInt32, dtInt64, dtBool:
		out.Ints = make([]int64, x.Len())
		lo, hi := -0x1p63, 0x1p63 // [lo, hi) of the target
		if to == dtInt32 {
			lo, hi = math.MinInt32, math.MaxInt32+1
		}
		if x.IsInt() {
			copy(out.Ints, x.Ints)
			if to == dtInt32 {
				for i, v := range out.Ints {
					out.Ints[i] = int64(int32(v))
				}
			}
		} else {
			for i, v := range x.Data {
				f := math.Trunc(float64(v))
				if to != dtBool && !(f >= lo && f < hi) {
					return nil, fmt.Errorf("element %d = %g does not fit %s", i, v, dtypeName(int32(to)))
				}
				if to == dtBool {
					if v != 0 {
						out.Ints[i] = 1
					}
					continue
				}
				out.Ints[i] = int64(f)
			}
		}
		if to == dtBool {
			for i, v := range out.Ints {
				if v != 0 {
					out.Ints[i] = 1
				}
			}
		}
		return []*Tensor{out}, nil
	}
	return nil, unsupportedAttr(n, "Cast to %s", dtypeName(int32(to)))
}

// roundHalf rounds v to the nearest IEEE 754 binary16 value (ties to even;
// overflow to ±Inf; NaN stays NaN) and returns it as float32.
func roundHalf(v float32) float32 {
	f := float64(v)
	if math.IsNaN(f) || math.IsInf(f, 0) || f == 0 {
		return v
	}
	a := math.Abs(f)
	if a >= 65520 { // half of the ulp above 65504 rounds to Inf
		return float32(math.Copysign(math.Inf(1), f))
	}
	_, e := math.Frexp(a) // a = m·2^e, m in [0.5, 1)
	// Spacing of binary16 values near a: 2^(e-11) for normals (e-1 >= -14),
	// 2^-24 for subnormals.
	q := e - 11
	if q < -24 {
		q = -24
	}
	ulp := math.Ldexp(1, q)
	r := math.RoundToEven(a/ulp) * ulp
	return float32(math.Copysign(r, f))
}
