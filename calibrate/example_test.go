package calibrate_test

import (
	"context"
	"fmt"

	"github.com/ann2snn/ann2snn/calibrate"
	"github.com/ann2snn/ann2snn/importer"
)

// ExampleCollect summarises the ReLU activation of a one-layer network on
// three images and sets thresholds from it, per layer and per channel,
// with the module's reference executor. The network computes
// h = relu(x0, x1, x0 − x1), so on the images (0.3, 0.8), (0.65, 0.1) and
// (1, 0.45) the activations are (0.3, 0.8, 0), (0.65, 0.1, 0.55) and
// (1, 0.45, 0.55): every channel has 3 values, 8 of the 9 are positive,
// the largest is 1, and per channel 1, 0.8 and 0.55. The mean of
// min(h, 0.5) per channel is (0.3+0.5+0.5)/3 = 0.4333,
// (0.5+0.1+0.45)/3 = 0.35 and (0+0.5+0.5)/3 = 0.3333.
func ExampleCollect() {
	g := &importer.Graph{
		Inputs:  []importer.Value{{Name: "x", Shape: []int{-1, 2}}},
		Outputs: []string{"h"},
		Opset:   13,
		Consts: map[string]*importer.Tensor{
			"w": {Shape: []int{3, 2}, Data: []float32{1, 0, 0, 1, 1, -1}},
		},
		Nodes: []*importer.Node{
			{Name: "fc", Op: "Gemm", Inputs: []string{"x", "w"}, Outputs: []string{"a"}, Attrs: importer.Attrs{"transB": int64(1)}},
			{Name: "relu", Op: "Relu", Inputs: []string{"a"}, Outputs: []string{"h"}, Attrs: importer.Attrs{}},
		},
	}
	ex, err := calibrate.NewExecutor(g)
	if err != nil {
		fmt.Println(err)
		return
	}
	images := calibrate.Slice([]float32{0.3, 0.8, 0.65, 0.1, 1, 0.45}, 3)
	ctx := context.Background()
	samples, err := calibrate.Collect(ctx, ex, images, []string{"h"}, calibrate.CollectOptions{PerChannel: true})
	if err != nil {
		fmt.Println(err)
		return
	}
	s := samples["h"]
	layer, err := s.Threshold(ctx, calibrate.Max{}, false)
	if err != nil {
		fmt.Println(err)
		return
	}
	channel, err := s.Threshold(ctx, calibrate.Max{}, true)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("values per channel", s.Count, "positive", s.Layer.N())
	fmt.Printf("Max θ per layer %.2f, per channel %.2f\n", layer, channel)
	means, err := calibrate.ClippedMeans(ctx, ex, images, 64, []string{"h"}, [][]float32{{0.5}})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Printf("mean of min(h, 0.5) %.4f\n", means[0])
	// Output:
	// values per channel [3 3 3] positive 8
	// Max θ per layer [1.00], per channel [1.00 0.80 0.55]
	// mean of min(h, 0.5) [0.4333 0.3500 0.3333]
}
