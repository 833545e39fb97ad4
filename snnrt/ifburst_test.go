package snnrt

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

// burstEdgeCase builds p positions × c channels of membranes, inputs,
// thresholds and (for signed neurons) running counts for a burst of up to
// m spikes, most of them on the edges of fire: u exactly k·θ (k up to
// m + 2) and 1 or 2 ulps off it on either side, the same below 0 with
// counts 0, 1, 2 and large, zero of both signs, denormals, huge values,
// ±Inf and NaN; thresholds include 1, a tiny normal (so that u/θ
// overflows) and a huge one (so that it underflows). A quarter of the
// neurons are random, with a random v as well (the others have v = 0, so
// that u = x exactly).
func burstEdgeCase(r *rand.Rand, c, p, m int, signed bool) (v, x, theta []float32, cnt []int32) {
	theta = make([]float32, c)
	for i := range theta {
		switch i % 6 {
		case 0:
			theta[i] = 1
		case 1:
			theta[i] = 0x1p-125
		case 2:
			theta[i] = 0x1p120
		default:
			theta[i] = 0.05 + r.Float32()
		}
	}
	v, x = make([]float32, c*p), make([]float32, c*p)
	if signed {
		cnt = make([]int32, c*p)
	}
	for i := range v {
		th := theta[i%c]
		var u float32
		switch r.IntN(8) {
		case 0, 1: // random
			v[i] = float32(r.NormFloat64()) * th
			x[i] = float32(r.NormFloat64()*float64(m)) * th
			u = x[i]
		case 2, 3, 4: // on ±k·θ, nudged by up to 2 ulps
			u = float32(r.IntN(m+3)) * th
			if r.IntN(2) == 0 {
				u = -u
			}
			for k := r.IntN(5) - 2; k != 0; k -= min(max(k, -1), 1) {
				u = math.Nextafter32(u, float32(k)*float32(math.Inf(1)))
			}
		case 5: // denormal or zero
			u = []float32{0x1p-149, 0x1p-140, 3e-39, 0, float32(math.Copysign(0, -1))}[r.IntN(5)]
			if r.IntN(2) == 0 {
				u = -u
			}
		case 6: // huge
			u = []float32{3e38, math.MaxFloat32, 1e30, float32(math.Inf(1))}[r.IntN(4)]
			if r.IntN(2) == 0 {
				u = -u
			}
		case 7:
			u = float32(math.NaN())
		}
		if v[i] == 0 {
			x[i] = u
		}
		if cnt != nil {
			cnt[i] = []int32{0, 1, 2, 1 << 20, -1, int32(m), int32(m + 1)}[r.IntN(7)]
		}
	}
	return v, x, theta, cnt
}

// burstOut is the state and output of one IF step on [p][c] neurons.
type burstOut struct {
	v          []float32
	cnt        []int32
	ch         []int32
	val        []float32
	start, pos []int32
}

// bitsEqual compares float32 slices bit for bit (NaN payloads and the sign
// of zero included).
func bitsEqual(a, b []float32) bool {
	return slices.EqualFunc(a, b, func(x, y float32) bool { return math.Float32bits(x) == math.Float32bits(y) })
}

// burstReference runs the step through IF.step, the reference simulator's
// neuron, treating [p][c] as p images of c channels at one position, and
// lists the events its outputs imply.
func burstReference(n IF, v, x, theta []float32, cnt []int32, c, p int) burstOut {
	n.Theta = theta
	o := burstOut{v: slices.Clone(v), start: make([]int32, p+1), pos: make([]int32, p)}
	nc := make([]int32, c*p)
	if cnt != nil {
		copy(nc, cnt)
	}
	before := slices.Clone(nc)
	dst := make([]float32, c*p)
	n.step(dst, o.v, nc, x, Shape{C: c, H: 1, W: 1}, p, nil)
	for q := 0; q < p; q++ {
		for b := 0; b < c; b++ {
			i := q*c + b
			if k := nc[i] - before[i]; k != 0 {
				o.ch, o.val = append(o.ch, int32(b)), append(o.val, dst[i])
				o.pos[q] += max(k, -k)
			} else if dst[i] != 0 {
				panic("IF.step output without a count")
			}
		}
		o.start[q+1] = int32(len(o.ch))
	}
	if cnt != nil {
		o.cnt = nc
	}
	return o
}

// TestIFBurstEmitM checks ifBurstEmitM16 (where the CPU runs it) and its Go
// twin ifBurstEmitMGo bit for bit against IF.step for M = 1 (signed), 2, 3,
// 4, 8 and 1024, signed and not, on the edge cases of burstEdgeCase, with
// c a multiple of 16 and not (the kernel's 8-channel tail), and checks
// that the kernel stores nothing beyond its n events.
func TestIFBurstEmitM(t *testing.T) {
	r := rand.New(rand.NewPCG(15, 16))
	const p = 23
	for _, m := range []int{1, 2, 3, 4, 8, maxBurst} {
		for _, signed := range []bool{false, true} {
			if m == 1 && !signed {
				continue // the classic neuron: ifNHWCMasked
			}
			for _, c := range []int{8, 16, 24, 64} {
				name := fmt.Sprintf("M=%d signed=%v c=%d", m, signed, c)
				v, x, theta, cnt := burstEdgeCase(r, c, p, m, signed)
				want := burstReference(IF{MaxSpikes: m, Signed: signed}, v, x, theta, cnt, c, p)
				if len(want.ch) == 0 || len(want.ch) == c*p {
					t.Fatalf("%s: %d of %d neurons fired", name, len(want.ch), c*p)
				}
				kernels := []struct {
					name string
					f    func(v, x, theta []float32, cnt []int32, c, p int, ch []int32, val []float32, start, pos []int32, m int) int
				}{{"ifBurstEmitMGo", ifBurstEmitMGo}}
				if haveBurstMAsm() {
					kernels = append(kernels, struct {
						name string
						f    func(v, x, theta []float32, cnt []int32, c, p int, ch []int32, val []float32, start, pos []int32, m int) int
					}{"ifBurstEmitM", ifBurstEmitM})
				} else {
					t.Log("no AVX-512: checking the Go twin alone")
				}
				for _, k := range kernels {
					const guard = 16
					o := burstOut{v: slices.Clone(v), ch: make([]int32, c*p+guard), val: make([]float32, c*p+guard),
						start: make([]int32, p+1), pos: make([]int32, p)}
					for i := range o.ch {
						o.ch[i], o.val[i] = -7, -7
					}
					if cnt != nil {
						o.cnt = slices.Clone(cnt)
					}
					ne := k.f(o.v, x, theta, o.cnt, c, p, o.ch, o.val, o.start, o.pos, m)
					for i := ne; i < len(o.ch); i++ {
						if o.ch[i] != -7 || o.val[i] != -7 {
							t.Fatalf("%s %s: stored beyond event %d at %d", name, k.name, ne, i)
						}
					}
					o.ch, o.val = o.ch[:ne], o.val[:ne]
					for i := range v {
						if math.Float32bits(o.v[i]) != math.Float32bits(want.v[i]) {
							t.Fatalf("%s %s neuron %d: u = %v + %v, θ %v: v %v, IF.step %v", name, k.name, i, v[i], x[i], theta[i%c], o.v[i], want.v[i])
						}
						if cnt != nil && o.cnt[i] != want.cnt[i] {
							t.Fatalf("%s %s neuron %d: u = %v + %v, θ %v, cnt %d: cnt %d, IF.step %d", name, k.name, i, v[i], x[i], theta[i%c], cnt[i], o.cnt[i], want.cnt[i])
						}
					}
					if !slices.Equal(o.ch, want.ch) || !bitsEqual(o.val, want.val) || !slices.Equal(o.start, want.start) || !slices.Equal(o.pos, want.pos) {
						t.Fatalf("%s %s: events differ from IF.step's\n ch %v\nval %v\nstart %v pos %v\nwant\n ch %v\nval %v\nstart %v pos %v",
							name, k.name, o.ch, o.val, o.start, o.pos, want.ch, want.val, want.start, want.pos)
					}
				}
			}
		}
	}
}

// TestIFNHWCFlaggedBurst checks ifNHWCFlagged's all-vector branch against
// its general branch (taken when a dense map is wanted) for every burst
// size, signed and not, assembly and Go: events, spike and SOP counts,
// membranes and running counts.
func TestIFNHWCFlaggedBurst(t *testing.T) {
	r := rand.New(rand.NewPCG(17, 18))
	const c, p = 40, 13
	lut := newPackLUT()
	for _, m := range []int{1, 2, 3, 4, 8} {
		for _, signed := range []bool{false, true} {
			if m == 1 && !signed {
				continue
			}
			for _, asm := range []bool{false, true} {
				if asm && !haveEventAsm() {
					continue
				}
				name := fmt.Sprintf("M=%d signed=%v asm=%v", m, signed, asm)
				v, x, theta, cnt := burstEdgeCase(r, c, p, m, signed)
				n := &IF{MaxSpikes: m, Signed: signed, Theta: theta}
				fanPos := make([]int64, p)
				for i := range fanPos {
					fanPos[i] = int64(1 + r.IntN(9))
				}
				type res struct {
					v           []float32
					cnt         []int32
					ev          events
					spikes, ops int64
				}
				run := func(dense bool) res {
					o := res{v: slices.Clone(v), ev: newEvents(p, c)}
					if cnt != nil {
						o.cnt = slices.Clone(cnt)
					}
					var d []float32
					if dense {
						d = make([]float32, c*p)
					}
					ks, mask := make([]int32, c*p), make([]uint8, c*p/8)
					o.spikes, o.ops = ifNHWCFlagged(n, lut, o.v, x, theta, o.cnt, ks, c, p, nil, fanPos, &o.ev, d, mask, asm)
					return o
				}
				got, want := run(false), run(true)
				if !bitsEqual(got.v, want.v) || !slices.Equal(got.cnt, want.cnt) {
					t.Fatalf("%s: membranes or counts differ from the general branch", name)
				}
				if !slices.Equal(got.ev.ch, want.ev.ch) || !bitsEqual(got.ev.val, want.ev.val) || !slices.Equal(got.ev.start, want.ev.start) {
					t.Fatalf("%s: events differ from the general branch", name)
				}
				if got.spikes != want.spikes || got.ops != want.ops || got.spikes == 0 {
					t.Fatalf("%s: spikes %d SOPs %d, general branch %d %d", name, got.spikes, got.ops, want.spikes, want.ops)
				}
			}
		}
	}
}
