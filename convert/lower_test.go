package convert

import (
	"testing"

	"github.com/ann2snn/ann2snn/importer"
	"github.com/ann2snn/ann2snn/internal/sharedtest"
	"github.com/ann2snn/ann2snn/snnrt"
)

// sharedModel loads a model of ../shared/models (see internal/sharedtest):
// a missing file skips the test, or fails it when CI is set.
func sharedModel(t *testing.T, name string) *importer.Graph {
	t.Helper()
	g, err := importer.Load(sharedtest.Path(t, "models", name))
	if err != nil {
		t.Fatal(err)
	}
	return g
}

func TestLowerSharedModels(t *testing.T) {
	tests := []struct {
		file    string
		neurons int
		kind    ActKind
	}{
		{"lenet_mnist.onnx", 3, ActReLU},
		{"vgg_small_cifar10_relu.onnx", 8, ActReLU},
		{"vgg16h_cifar10_relu.onnx", 13, ActReLU},
		{"vgg16h_cifar10_qcfs.onnx", 13, ActQuant},
		{"resnet20_cifar10_qcfs.onnx", 19, ActQuant},
	}
	for _, tc := range tests {
		t.Run(tc.file, func(t *testing.T) {
			g := sharedModel(t, tc.file)
			if err := FoldBatchNorm(g); err != nil {
				t.Fatal(err)
			}
			low, err := Lower(g)
			if err != nil {
				t.Fatal(err)
			}
			if len(low.Neurons) != tc.neurons {
				t.Errorf("got %d IF layers, want %d", len(low.Neurons), tc.neurons)
			}
			for _, nr := range low.Neurons {
				if nr.Act.Kind != tc.kind {
					t.Errorf("layer %d: activation %v, want %v", nr.Layer, nr.Act.Kind, tc.kind)
				}
				if low.Model.Layers[nr.Layer].Kind != snnrt.KindIF {
					t.Errorf("layer %d is %v, want IF", nr.Layer, low.Model.Layers[nr.Layer].Kind)
				}
			}
			out := low.Model.Layers[low.Model.Output]
			if out.Shape.Len() != 10 {
				t.Errorf("output shape %v", out.Shape)
			}
		})
	}
}
