package dataset

import (
	"reflect"
	"testing"
)

func TestParseFloats(t *testing.T) {
	tests := []struct {
		in   string
		want []float32
		err  string
	}{
		{"0.1,0.2", []float32{0.1, 0.2}, ""},
		{" 0.4914, 0.4822 ,0.4465 ", []float32{0.4914, 0.4822, 0.4465}, ""},
		{"[0.5]", []float32{0.5}, ""},
		{"(1, 2)", []float32{1, 2}, ""},
		{"1e-3", []float32{0.001}, ""},
		{"", nil, ""},
		{"  ", nil, ""},
		{"1,,2", nil, "value 1"},
		{"1,", nil, "value 1"},
		{"a", nil, "not a finite number"},
		{"NaN", nil, "not a finite number"},
		{"inf", nil, "not a finite number"},
		{"1e40", nil, "not a finite number"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := ParseFloats(tt.in)
			checkErr(t, err, tt.err)
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("ParseFloats(%q) = %v, want %v", tt.in, got, tt.want)
			}
		})
	}
}

func TestPreprocessFromMeta(t *testing.T) {
	tests := []struct {
		name  string
		meta  map[string]string
		want  Preprocess
		found bool
		err   string
	}{
		{"none", nil, Preprocess{}, false, ""},
		{"other keys", map[string]string{MetaDataset: "mnist", "x": "1"}, Preprocess{}, false, ""},
		{"scale", map[string]string{MetaScale: "0.00392156862745098"}, Preprocess{Scale: 1.0 / 255}, true, ""},
		{"cifar", map[string]string{
			MetaScale: "0.00392156862745098",
			MetaMean:  "0.4914,0.4822,0.4465",
			MetaStd:   "0.2470,0.2435,0.2616",
		}, Preprocess{Scale: 1.0 / 255, Mean: []float32{0.4914, 0.4822, 0.4465}, Std: []float32{0.2470, 0.2435, 0.2616}}, true, ""},
		{"mnist mean only", map[string]string{MetaMean: "0.1307"}, Preprocess{Mean: []float32{0.1307}}, true, ""},
		{"bad scale", map[string]string{MetaScale: "x"}, Preprocess{}, true, MetaScale},
		{"bad mean", map[string]string{MetaMean: "0.1,y"}, Preprocess{}, true, MetaMean},
		{"zero std", map[string]string{MetaStd: "0.2,0"}, Preprocess{}, true, "value 1 is 0"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, found, err := PreprocessFromMeta(tt.meta)
			checkErr(t, err, tt.err)
			if !reflect.DeepEqual(got, tt.want) || found != tt.found {
				t.Errorf("got %+v, %v; want %+v, %v", got, found, tt.want, tt.found)
			}
		})
	}
}

func TestPreprocessValidate(t *testing.T) {
	tests := []struct {
		name     string
		p        Preprocess
		channels int
		err      string
	}{
		{"zero value", Preprocess{}, 3, ""},
		{"broadcast", Preprocess{Mean: []float32{1}, Std: []float32{2}}, 3, ""},
		{"per channel", Preprocess{Mean: []float32{1, 2, 3}}, 3, ""},
		{"wrong count", Preprocess{Std: []float32{1, 2}}, 3, "2 std values for 3 channels"},
		{"too many for gray", Preprocess{Mean: []float32{1, 2, 3}}, 1, "3 mean values"},
		{"zero std", Preprocess{Std: []float32{0}}, 1, "is 0"},
		{"negative std", Preprocess{Std: []float32{1, -1}}, 2, "std[1] is -1, want > 0"},
		{"nan mean", Preprocess{Mean: []float32{float32(nan())}}, 1, "not finite"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			checkErr(t, tt.p.Validate(tt.channels), tt.err)
		})
	}
}

func nan() float64 {
	zero := 0.0
	return zero / zero
}

// TestValueMatchesBatch checks that Preprocess.Value computes exactly what
// Batch writes.
func TestValueMatchesBatch(t *testing.T) {
	pix := []uint8{0, 17, 255, 128, 3, 200}
	ds, err := FromUint8(3, 1, 2, pix, []int{0})
	if err != nil {
		t.Fatal(err)
	}
	pre := Preprocess{Scale: 1.0 / 255, Mean: []float32{0.1, 0.2, 0.3}, Std: []float32{0.5, 0.25, 2}}
	out, err := ds.Batch(make([]float32, 6), 0, 1, pre)
	if err != nil {
		t.Fatal(err)
	}
	for i, p := range pix {
		if got := pre.Value(i/2, float32(p)); got != out[i] {
			t.Errorf("value %d: Value %v, Batch %v", i, got, out[i])
		}
	}
}

func TestImageOptionsFromMeta(t *testing.T) {
	tests := []struct {
		name  string
		meta  map[string]string
		want  ImageOptions
		found bool
		err   string
	}{
		{"none", map[string]string{MetaScale: "1"}, ImageOptions{}, false, ""},
		{"imagenet", map[string]string{MetaResize: "256", MetaCrop: " 224 "}, ImageOptions{Resize: 256, Crop: 224}, true, ""},
		{"crop only", map[string]string{MetaCrop: "32"}, ImageOptions{Crop: 32}, true, ""},
		{"zero", map[string]string{MetaResize: "0"}, ImageOptions{}, true, ""},
		{"negative", map[string]string{MetaResize: "-1"}, ImageOptions{}, true, MetaResize},
		{"float", map[string]string{MetaCrop: "224.0"}, ImageOptions{}, true, MetaCrop},
		{"huge", map[string]string{MetaCrop: "100000"}, ImageOptions{}, true, "out of range"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, found, err := ImageOptionsFromMeta(tt.meta)
			checkErr(t, err, tt.err)
			if got != tt.want || found != tt.found {
				t.Errorf("got %+v, %v; want %+v, %v", got, found, tt.want, tt.found)
			}
		})
	}
}

func TestParseScale(t *testing.T) {
	tests := []struct {
		in   string
		want float32
		err  string
	}{
		{"1", 1, ""},
		{"1/255", float32(1.0 / 255), ""},
		{" 2 / 4 ", 0.5, ""},
		{"0.00392156862745098", float32(1.0 / 255), ""},
		{"-1", -1, ""},
		{"1/0", 0, "not a finite number"},
		{"", 0, "not a finite number"},
		{"1/", 0, "not a finite number"},
		{"a/255", 0, "not a finite number"},
		{"1e40", 0, "not a finite number"},
		{"NaN", 0, "not a finite number"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := ParseScale(tt.in)
			checkErr(t, err, tt.err)
			if got != tt.want {
				t.Errorf("ParseScale(%q) = %v, want %v", tt.in, got, tt.want)
			}
		})
	}
}
