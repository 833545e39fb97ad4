package convert

import (
	"slices"
	"testing"
)

func TestClipBalance(t *testing.T) {
	tests := []struct {
		name         string
		lambda, data []float32
		want         []float32
	}{
		{"data below λ", []float32{6}, []float32{1.5}, []float32{1.5}},
		{"data above λ", []float32{6}, []float32{7}, []float32{6}},
		{"per-channel data, one λ", []float32{6}, []float32{0.5, 6, 9, 2}, []float32{0.5, 6, 6, 2}},
		{"silent channel keeps λ", []float32{6}, []float32{0, 3}, []float32{6, 3}},
		{"per-channel λ, one data value", []float32{1, 4}, []float32{2}, []float32{1, 2}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := clipBalance(tc.lambda, tc.data)
			if !slices.Equal(got, tc.want) {
				t.Errorf("clipBalance(%v, %v) = %v, want %v", tc.lambda, tc.data, got, tc.want)
			}
		})
	}
}
