package convert

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ann2snn/ann2snn/calibrate"
	"github.com/ann2snn/ann2snn/dataset"
	"github.com/ann2snn/ann2snn/snnrt"
)

func TestZZExperiment(t *testing.T) {
	model := os.Getenv("M")
	if model == "" {
		t.Skip()
	}
	g := sharedModel(t, model)
	data := "cifar10:/work/shared/datasets/cifar10"
	pre := dataset.Preprocess{Scale: 1.0 / 255, Mean: []float32{0.4914, 0.4822, 0.4465}, Std: []float32{0.2470, 0.2435, 0.2616}}
	if model == "lenet_mnist.onnx" {
		data, pre = "mnist", dataset.Preprocess{Scale: 1.0 / 255}
	}
	train, _ := dataset.Open(data, dataset.Train)
	test, _ := dataset.Open(data, dataset.Test)
	per := train.ImageSize()
	nc, _ := strconv.Atoi(os.Getenv("NC"))
	idx := train.Sample(nc, 1)
	xc := make([]float32, len(idx)*per)
	for i, j := range idx {
		train.Batch(xc[i*per:(i+1)*per], j, 1, pre)
	}
	ne, _ := strconv.Atoi(os.Getenv("NE"))
	xe := make([]float32, ne*per)
	test.Batch(xe, 0, ne, pre)
	lab := make([]int, ne)
	for i := range lab {
		lab[i] = test.Label(i)
	}
	T, _ := strconv.Atoi(os.Getenv("T"))
	for _, name := range strings.Split(os.Getenv("CONFIGS"), ";") {
		o := Options{T: T, Unsigned: true, MaxSpikes: 1}
		for _, tok := range strings.Split(name, ",") {
			switch {
			case tok == "signed":
				o.Unsigned = false
			case strings.HasPrefix(tok, "burst"):
				o.MaxSpikes, _ = strconv.Atoi(tok[5:])
			case tok == "bias":
				o.Bias = BiasSequential
			case tok == "joint":
				o.Bias = BiasJoint
			case tok == "perchan":
				o.PerChannel = true
			case tok == "p99.9":
				o.Norm = calibrate.Percentile(99.9)
			case tok == "p99.99":
				o.Norm = calibrate.Percentile(99.99)
			case tok == "max":
				o.Norm = calibrate.Max{}
			case tok == "noshift":
				o.NoShift = true
			}
		}
		t0 := time.Now()
		m, err := Convert(g, xc, len(idx), o)
		if err != nil {
			t.Fatal(err)
		}
		ct := time.Since(t0)
		maxT, _ := strconv.Atoi(os.Getenv("MAXT"))
		sim, err := snnrt.NewSimulator(m, snnrt.Config{T: maxT})
		if err != nil {
			t.Fatal(err)
		}
		r, err := sim.Run(xe, ne)
		if err != nil {
			t.Fatal(err)
		}
		fmt.Printf("%-24s conv %5.1fs |", name, ct.Seconds())
		for _, tt := range []int{1, 2, 4, 8, 16, 32, 64} {
			if tt <= maxT {
				fmt.Printf(" T%d %.3f", tt, r.Accuracy(tt, lab))
			}
		}
		fmt.Println()
	}
}
