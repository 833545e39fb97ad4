package convert

import (
	"fmt"
	"os"
	"strconv"
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
	configs := map[string]Options{
		"base":      {T: T, Bias: BiasOff},
		"signed":    {T: T, Bias: BiasOff, Signed: true},
		"burst2":    {T: T, Bias: BiasOff, MaxSpikes: 2},
		"bias-seq":  {T: T},
		"bias-joint": {T: T, Bias: BiasJoint},
		"signed+bias": {T: T, Signed: true},
		"noshift":   {T: T, Bias: BiasOff, NoShift: true},
		"p99.9":     {T: T, Bias: BiasOff, Norm: calibrate.Percentile(99.9)},
		"p99.9+bias":     {T: T, Norm: calibrate.Percentile(99.9)},
		"perchan":   {T: T, Bias: BiasOff, PerChannel: true},
		"perchan+bias":   {T: T, PerChannel: true},
	}
	for _, name := range []string{"base", "signed", "burst2", "bias-seq", "bias-joint", "signed+bias", "noshift", "p99.9", "p99.9+bias", "perchan", "perchan+bias"} {
		if f := os.Getenv("ONLY"); f != "" && !contains(f, name) {
			continue
		}
		t0 := time.Now()
		m, err := Convert(g, xc, len(idx), configs[name])
		if err != nil {
			t.Fatal(err)
		}
		ct := time.Since(t0)
		r, err := snnrt.Run(m, xe, ne, snnrt.Config{T: 32})
		if err != nil {
			t.Fatal(err)
		}
		fmt.Printf("%-14s conv %5.1fs |", name, ct.Seconds())
		for _, tt := range []int{1, 2, 4, 8, 16, 32} {
			fmt.Printf(" T%d %.3f", tt, r.Accuracy(tt, lab))
		}
		fmt.Println()
	}
}

func contains(list, s string) bool {
	for _, p := range splitComma(list) {
		if p == s {
			return true
		}
	}
	return false
}

func splitComma(s string) []string {
	var out []string
	start := 0
	for i := 0; i <= len(s); i++ {
		if i == len(s) || s[i] == ',' {
			out = append(out, s[start:i])
			start = i + 1
		}
	}
	return out
}
