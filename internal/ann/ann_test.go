package ann

import (
	"math"
	"math/rand/v2"
	"path/filepath"
	"runtime"
	"testing"

	"github.com/ann2snn/ann2snn/importer"
)

func loadLeNet(t *testing.T) *importer.Graph {
	t.Helper()
	g, err := importer.Load(filepath.Join("..", "..", "models", "lenet_mnist.onnx"))
	if err != nil {
		t.Fatal(err)
	}
	return g
}

func randomImages(n int) []float32 {
	r := rand.New(rand.NewPCG(1, 2))
	x := make([]float32, n*28*28)
	for i := range x {
		x[i] = r.Float32()
	}
	return x
}

// TestExecutorMatchesReference compares the batched, multi-core executor
// with the graph's one-image reference evaluation.
func TestExecutorMatchesReference(t *testing.T) {
	g := loadLeNet(t)
	ex, err := New(g)
	if err != nil {
		t.Fatal(err)
	}
	const n = 5
	x := randomImages(n)
	out, kept, err := ex.Forward(x, n, []string{g.Nodes[0].Outputs[0]})
	if err != nil {
		t.Fatal(err)
	}
	if got := kept[g.Nodes[0].Outputs[0]].Shape; got[0] != n {
		t.Fatalf("kept value has shape %v, want batch %d first", got, n)
	}
	for i := range n {
		in := &importer.Tensor{Shape: []int{1, 1, 28, 28}, Data: x[i*784 : (i+1)*784]}
		env, err := g.RunRef(in)
		if err != nil {
			t.Fatal(err)
		}
		ref := env[g.Outputs[0]].Data
		for j, v := range ref {
			if d := math.Abs(float64(v - out[i*10+j])); d > 1e-4*(1+math.Abs(float64(v))) {
				t.Fatalf("image %d logit %d: executor %v, reference %v", i, j, out[i*10+j], v)
			}
		}
	}
}

// TestExecutorDeterministic checks that results do not depend on the
// number of cores or on where an image sits in the batch.
func TestExecutorDeterministic(t *testing.T) {
	g := loadLeNet(t)
	x := randomImages(7)
	var runs [][]float32
	for _, procs := range []int{1, 2, 3} {
		prev := runtime.GOMAXPROCS(procs)
		ex, err := New(g)
		runtime.GOMAXPROCS(prev)
		if err != nil {
			t.Fatal(err)
		}
		out, err := ex.Run(x, 7)
		if err != nil {
			t.Fatal(err)
		}
		runs = append(runs, out)
	}
	for _, r := range runs[1:] {
		for i := range r {
			if r[i] != runs[0][i] {
				t.Fatalf("logit %d differs across core counts: %v vs %v", i, r[i], runs[0][i])
			}
		}
	}
	ex, _ := New(g)
	single, err := ex.Run(x[3*784:4*784], 1)
	if err != nil {
		t.Fatal(err)
	}
	for j := range single {
		if single[j] != runs[0][3*10+j] {
			t.Fatalf("image 3 alone differs from image 3 in a batch")
		}
	}
}

func TestExecutorErrors(t *testing.T) {
	g := loadLeNet(t)
	ex, err := New(g)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		x    []float32
		n    int
		keep []string
	}{
		{"short input", make([]float32, 10), 1, nil},
		{"zero images", nil, 0, nil},
		{"unknown value", make([]float32, 784), 1, []string{"no such value"}},
	}
	for _, tc := range tests {
		if _, _, err := ex.Forward(tc.x, tc.n, tc.keep); err == nil {
			t.Errorf("%s: want an error", tc.name)
		}
	}
}
