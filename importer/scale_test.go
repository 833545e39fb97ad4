package importer

import (
	"fmt"
	"runtime"
	"testing"
	"time"

	"google.golang.org/protobuf/encoding/protowire"

	"github.com/ann2snn/ann2snn/internal/cputime"
)

// chainModel encodes a ModelProto (IR 7, opset 13) with one float input
// "x" [1,4] and a chain of n nodes cycling through Relu, Identity and
// Add(v, v), each reading the previous node's output; the last output is
// the graph output. Nodes are named n0, n1, ...
func chainModel(n int) []byte { return chainModelOps(n, []string{"Relu", "Identity", "Add"}, false) }

// chainModelOps is chainModel with the operators cycling through ops
// (Relu, Identity, Dropout or Add); with sameName every node is named "n".
func chainModelOps(n int, ops []string, sameName bool) []byte {
	msg := func(b []byte, field protowire.Number, body []byte) []byte {
		b = protowire.AppendTag(b, field, protowire.BytesType)
		return protowire.AppendBytes(b, body)
	}
	str := func(b []byte, field protowire.Number, s string) []byte {
		b = protowire.AppendTag(b, field, protowire.BytesType)
		return protowire.AppendString(b, s)
	}
	varint := func(b []byte, field protowire.Number, v uint64) []byte {
		return protowire.AppendVarint(protowire.AppendTag(b, field, protowire.VarintType), v)
	}
	valueInfo := func(name string) []byte {
		dims := msg(msg(nil, 1, varint(nil, 1, 1)), 1, varint(nil, 1, 4))
		tensorType := msg(varint(nil, 1, 1), 2, dims)
		return msg(str(nil, 1, name), 2, msg(nil, 1, tensorType))
	}
	var graph []byte
	prev := "x"
	for i := range n {
		out := fmt.Sprintf("v%d", i)
		var nb []byte
		op := ops[i%len(ops)]
		nb = str(nb, 1, prev)
		if op == "Add" {
			nb = str(nb, 1, prev)
		}
		nb = str(nb, 2, out)
		name := fmt.Sprintf("n%d", i)
		if sameName {
			name = "n"
		}
		nb = str(nb, 3, name)
		nb = str(nb, 4, op)
		graph = msg(graph, 1, nb)
		prev = out
	}
	graph = str(graph, 2, "chain")
	graph = msg(graph, 11, valueInfo("x"))
	graph = msg(graph, 12, valueInfo(prev))
	m := varint(nil, 1, 7)
	m = msg(m, 8, varint(nil, 2, 13))
	return msg(m, 7, graph)
}

// TestChainModel checks the generator and the import of a chain by value:
// Identity nodes disappear, and for x = [-1, 0, 1, 2] the 6-node chain
// Relu, Identity, Add, Relu, Identity, Add gives 4·relu(x) = [0, 0, 4, 8].
func TestChainModel(t *testing.T) {
	g, err := Parse(chainModel(6), "")
	if err != nil {
		t.Fatal(err)
	}
	if got := opString(g); got != "Relu Add Relu Add" {
		t.Errorf("ops %q, want %q", got, "Relu Add Relu Add")
	}
	x := &Tensor{Shape: []int{1, 4}, Data: []float32{-1, 0, 1, 2}}
	out, err := g.RunRef(x)
	if err != nil {
		t.Fatal(err)
	}
	got := out[g.Outputs[0]]
	want := []float32{0, 0, 4, 8}
	if got == nil || len(got.Data) != len(want) {
		t.Fatalf("output %v, want %v", got, want)
	}
	for i, v := range got.Data {
		if v != want[i] {
			t.Fatalf("output %v, want %v", got.Data, want)
		}
	}
}

// TestImportScalesLinearly imports chains of 5k and 40k nodes and checks
// that 8x the nodes costs under 24x the time: a linear import gives about
// 8x (up to 2x more from caches and a busy machine), a quadratic pass
// about 64x (the removeAliases this replaced gave 68x). Runs are
// interleaved and the fastest of three kept, so load on a shared machine
// affects both sizes alike.
func TestImportScalesLinearly(t *testing.T) {
	if testing.Short() {
		t.Skip("imports 45k nodes 3 times")
	}
	for _, tt := range []struct {
		name     string
		ops      []string
		sameName bool
	}{
		{"relu-identity-add", []string{"Relu", "Identity", "Add"}, false},
		{"dropout-same-names", []string{"Relu", "Dropout"}, true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			checkLinear(t, chainModelOps(5000, tt.ops, tt.sameName), chainModelOps(40000, tt.ops, tt.sameName))
		})
	}
}

// checkLinear times Parse on small and large (8x the nodes) and fails if
// the ratio shows quadratic behaviour. It counts the process's CPU time
// (wall time where that is not available), so that other jobs on a busy
// machine do not skew the ratio.
func checkLinear(t *testing.T, small, large []byte) {
	t.Helper()
	ts, tl := time.Duration(1<<62), time.Duration(1<<62)
	timeParse := func(data []byte) time.Duration {
		runtime.GC()
		c0, cpu := cputime.Process()
		start := time.Now()
		if _, err := Parse(data, ""); err != nil {
			t.Fatal(err)
		}
		if c1, _ := cputime.Process(); cpu {
			return c1 - c0
		}
		return time.Since(start)
	}
	for range 3 {
		ts = min(ts, timeParse(small))
		tl = min(tl, timeParse(large))
	}
	ratio := float64(tl) / float64(ts)
	t.Logf("5k nodes %v, 40k nodes %v, ratio %.1f (linear 8, quadratic 64)", ts, tl, ratio)
	if ratio >= 24 {
		t.Errorf("importing 8x the nodes took %.1fx the time (5k: %v, 40k: %v): a pass is quadratic", ratio, ts, tl)
	}
}

// BenchmarkImportChain measures Parse on a 100k-node chain.
func BenchmarkImportChain(b *testing.B) {
	for _, n := range []int{10000, 100000} {
		data := chainModel(n)
		b.Run(fmt.Sprint(n), func(b *testing.B) {
			b.SetBytes(int64(len(data)))
			for b.Loop() {
				if _, err := Parse(data, ""); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
