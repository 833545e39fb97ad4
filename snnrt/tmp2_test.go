package snnrt

import (
	"math/rand/v2"
	"testing"

	"github.com/ann2snn/ann2snn/internal/kernels"
)

func BenchmarkTmpFirst(b *testing.B) {
	g := kernels.ConvGeom{C: 3, H: 32, W: 32, K: 32, KH: 3, KW: 3, PadT: 1, PadL: 1, PadB: 1, PadR: 1}
	r := rand.New(rand.NewPCG(1, 1))
	s := newEventSyn(g, randVec(r, 32*27, -1, 1), nil)
	const n = 8
	x := randVec(r, n*3*1024, 0.1, 1)
	dst := make([]float32, n*32*1024)
	ws := make([]float32, s.denseConv.WorkspaceLen(n))
	e := newEvents(1024, 3)
	for _, mode := range []string{"gemm", "gather"} {
		b.Run(mode, func(b *testing.B) {
			c0 := cpuSeconds()
			for b.Loop() {
				if mode == "gemm" {
					s.denseConv.Forward(dst, x, n, ws)
					continue
				}
				for i := 0; i < n; i++ {
					e.scan(x[i*3072:(i+1)*3072], 3, 1024)
					s.accumulate(dst[i*32768:(i+1)*32768], &e)
				}
			}
			b.ReportMetric((cpuSeconds()-c0)*1e6/float64(b.N)/n, "cpu-µs/image")
		})
	}
}
