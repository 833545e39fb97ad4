package snnrt

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

// TestIFStep drives one or two neurons by hand and checks the spikes.
func TestIFStep(t *testing.T) {
	tests := []struct {
		name string
		n    IF
		c    int         // channels (one neuron each)
		x    [][]float32 // per step, per channel
		want [][]float32 // outputs s·θ
	}{
		{"subtract", IF{Theta: []float32{1}}, 1,
			[][]float32{{0.6}, {0.6}, {0.6}, {0.6}}, [][]float32{{0}, {1}, {0}, {1}}},
		{"subtract keeps residue", IF{Theta: []float32{1}}, 1,
			[][]float32{{1.5}, {0.5}, {0}}, [][]float32{{1}, {1}, {0}}},
		{"zero reset drops residue", IF{Theta: []float32{1}, Reset: ResetToZero}, 1,
			[][]float32{{1.5}, {0.5}, {0}}, [][]float32{{1}, {0}, {0}}},
		{"theta carried", IF{Theta: []float32{2}}, 1,
			[][]float32{{2.5}, {1.5}}, [][]float32{{2}, {2}}},
		{"V0 shift", IF{Theta: []float32{1}, V0: []float32{0.5}}, 1,
			[][]float32{{0.6}, {0}, {0.4}}, [][]float32{{1}, {0}, {0}}},
		{"one spike per step", IF{Theta: []float32{1}}, 1,
			[][]float32{{3.5}, {0}, {0}, {0}}, [][]float32{{1}, {1}, {1}, {0}}},
		{"burst", IF{Theta: []float32{1}, MaxSpikes: 3}, 1,
			[][]float32{{2.5}, {0.2}, {5}, {0}}, [][]float32{{2}, {0}, {3}, {2}}},
		{"burst zero reset", IF{Theta: []float32{1}, MaxSpikes: 3, Reset: ResetToZero}, 1,
			[][]float32{{2.5}, {0.2}}, [][]float32{{2}, {0}}},
		{"unsigned ignores negative", IF{Theta: []float32{1}, V0: []float32{0.5}}, 1,
			[][]float32{{0.6}, {-0.8}, {-0.5}, {0.2}}, [][]float32{{1}, {0}, {0}, {0}}},
		{"signed takes back", IF{Theta: []float32{1}, V0: []float32{0.5}, Signed: true}, 1,
			[][]float32{{0.6}, {-0.8}, {-0.5}, {0.2}}, [][]float32{{1}, {-1}, {0}, {0}}},
		{"signed never below zero count", IF{Theta: []float32{1}, Signed: true}, 1,
			[][]float32{{-3}, {1}, {2}}, [][]float32{{0}, {0}, {0}}},
		{"signed burst take back limited by count", IF{Theta: []float32{1}, Signed: true, MaxSpikes: 4}, 1,
			[][]float32{{2.2}, {-4}}, [][]float32{{2}, {-2}}},
		{"per-channel theta", IF{Theta: []float32{1, 2}, V0: []float32{0, 0.5}}, 2,
			[][]float32{{1.5, 1.5}, {0, 0}}, [][]float32{{1, 2}, {0, 0}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := Shape{tc.c, 1, 1}
			if err := tc.n.check(tc.c); err != nil {
				t.Fatal(err)
			}
			v := make([]float32, tc.c)
			cnt := make([]int32, tc.c)
			tc.n.init(v, cnt, s, 1)
			fan := make([]int64, tc.c)
			for i := range fan {
				fan[i] = int64(10 * (i + 1))
			}
			for step, x := range tc.x {
				out := make([]float32, tc.c)
				spikes, sops := tc.n.step(out, v, cnt, x, s, 1, fan)
				if !slices.Equal(out, tc.want[step]) {
					t.Fatalf("step %d: out %v, want %v (v=%v)", step+1, out, tc.want[step], v)
				}
				var ws, wsops int64
				for c, o := range tc.want[step] {
					k := int64(o / tc.n.theta(c))
					ws += max(k, -k)
					wsops += max(k, -k) * fan[c]
				}
				if spikes != ws || sops != wsops {
					t.Fatalf("step %d: spikes %d sops %d, want %d %d", step+1, spikes, sops, ws, wsops)
				}
			}
		})
	}
}

// TestIFSignedRounds checks the documented property: a signed neuron with
// V0 = θ/2 and subtraction ends with count = round(Σx/θ) when the per-step
// limit is not hit.
func TestIFSignedRounds(t *testing.T) {
	x := []float32{0.9, -0.3, 0.7, -0.6, -0.5, 0.7, 0.8, -0.35}
	n := IF{Theta: []float32{1}, V0: []float32{0.5}, Signed: true}
	v, cnt, out := []float32{0}, []int32{0}, []float32{0}
	n.init(v, cnt, Shape{1, 1, 1}, 1)
	var sum float32
	for i, xi := range x {
		n.step(out, v, cnt, []float32{xi}, Shape{1, 1, 1}, 1, nil)
		sum += xi
		want := int32(max(0, sum+0.5)) // floor for non-negative values
		if cnt[0] != want {
			t.Fatalf("after step %d: count %d, want %d (Σx = %v, v = %v)", i+1, cnt[0], want, sum, v[0])
		}
	}
}

func TestIFCheck(t *testing.T) {
	tests := []struct {
		name string
		n    IF
		ok   bool
	}{
		{"per layer", IF{Theta: []float32{1}}, true},
		{"per channel", IF{Theta: []float32{1, 2, 3}, V0: []float32{0, 1, 1}}, true},
		{"no theta", IF{}, false},
		{"zero theta", IF{Theta: []float32{0}}, false},
		{"negative theta", IF{Theta: []float32{1, -1, 1}}, false},
		{"wrong theta length", IF{Theta: []float32{1, 1}}, false},
		{"wrong V0 length", IF{Theta: []float32{1}, V0: []float32{0, 0}}, false},
		{"bad reset", IF{Theta: []float32{1}, Reset: 7}, false},
		{"bad burst", IF{Theta: []float32{1}, MaxSpikes: -1}, false},
	}
	for _, tc := range tests {
		if err := tc.n.check(3); (err == nil) != tc.ok {
			t.Errorf("%s: check = %v, want ok=%v", tc.name, err, tc.ok)
		}
	}
}

// fireByQuotient is fire's definition for any M: the quotient u/θ rounded
// to float32, floored (positive side) or ceiled (take-back side), capped.
func fireByQuotient(signed bool, u, th float32, m int, cnt int32) int {
	fm := float32(m)
	switch {
	case u >= th:
		if q := u / th; q >= fm {
			return m
		} else {
			return int(q)
		}
	case signed && u < 0 && cnt > 0:
		q := -u / th
		k := m
		if q < fm {
			if k = int(q); float32(k) < q {
				k++
			}
		}
		k = max(k, 1) // a take-back even where −u/θ underflows
		return -min(k, int(cnt))
	}
	return 0
}

// TestFireWithoutDivision checks fire's comparisons for M = 2 against the
// quotient they replace, at and around every boundary.
func TestFireWithoutDivision(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	thetas := []float32{1, 0.5, 3, 0.1, 1e-3, 7.3e4, math.SmallestNonzeroFloat32 * (1 << 23)}
	for i := 0; i < 200; i++ {
		thetas = append(thetas, float32(math.Exp(rng.Float64()*20-10)))
	}
	for _, signed := range []bool{false, true} {
		n := IF{Signed: signed, MaxSpikes: 2}
		for _, th := range thetas {
			// Every float within a few ulps of the boundaries θ, 2θ, −θ,
			// −2θ, plus random membranes.
			var us []float32
			for _, b := range []float32{th, 2 * th, -th, -2 * th, 0} {
				u := b
				for k := 0; k < 8; k++ {
					u = math.Nextafter32(u, float32(math.Inf(-1)))
				}
				for k := 0; k < 16; k++ {
					us = append(us, u)
					u = math.Nextafter32(u, float32(math.Inf(1)))
				}
			}
			for k := 0; k < 64; k++ {
				us = append(us, th*float32(rng.NormFloat64()*2))
			}
			for _, u := range us {
				for _, cnt := range []int32{0, 1, 2, 5} {
					got := n.fire(u, th, 2, 2, cnt)
					want := fireByQuotient(signed, u, th, 2, cnt)
					if got != want {
						t.Fatalf("signed=%v θ=%g u=%g cnt=%d: fire = %d, quotient gives %d", signed, th, u, cnt, got, want)
					}
				}
			}
		}
	}
}
