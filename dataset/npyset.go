package dataset

import (
	"fmt"
	"strings"
)

// LoadNPY loads user-supplied images from an .npy file and, unless
// labelsPath is "", their labels from another.
//
// Images must be C-order with shape [N,C,H,W], [N,H,W] (one channel) or
// [N,D] (shape [1,1,D]). Uint8 images are kept as raw pixels (use
// Preprocess.Scale 1/255 to map them to [0,1]); every other element type is
// converted to float32 (float64 and large integers lose precision).
// Labels must be an integer array of shape [N] or [N,1] with values >= 0.
// Without labels the Dataset is unlabeled (Label returns -1).
func LoadNPY(imagesPath, labelsPath string) (*Dataset, error) {
	img, err := ReadNPYFile(imagesPath)
	if err != nil {
		return nil, err
	}
	var c, h, w int
	switch s := img.Shape; len(s) {
	case 4:
		c, h, w = s[1], s[2], s[3]
	case 3:
		c, h, w = 1, s[1], s[2]
	case 2:
		c, h, w = 1, 1, s[1]
	default:
		return nil, fmt.Errorf("dataset: npy %s: image array has shape %v, want [N,C,H,W], [N,H,W] or [N,D]", imagesPath, s)
	}
	if c == 0 || h == 0 || w == 0 {
		return nil, fmt.Errorf("dataset: npy %s: image array has shape %v with an empty image", imagesPath, img.Shape)
	}
	var labels []int
	if labelsPath != "" {
		if labels, err = loadNPYLabels(labelsPath); err != nil {
			return nil, err
		}
		if len(labels) != img.Shape[0] {
			return nil, fmt.Errorf("dataset: %s has %d images but %s has %d labels", imagesPath, img.Shape[0], labelsPath, len(labels))
		}
	}
	if img.DType == Uint8 {
		return FromUint8(c, h, w, img.Uint8, labels)
	}
	pix := img.Float32
	if pix == nil {
		pix = make([]float32, img.Len())
		switch {
		case img.Float64 != nil:
			for i, v := range img.Float64 {
				pix[i] = float32(v)
			}
		case img.Int64 != nil:
			for i, v := range img.Int64 {
				pix[i] = float32(v)
			}
		}
	}
	if err := checkFinite(pix, c*h*w); err != nil {
		return nil, &FormatError{Path: imagesPath, Format: "npy", Msg: strings.TrimPrefix(err.Error(), "dataset: ")}
	}
	return FromFloat32(c, h, w, pix, labels)
}

func loadNPYLabels(path string) ([]int, error) {
	a, err := ReadNPYFile(path)
	if err != nil {
		return nil, err
	}
	if !(len(a.Shape) == 1 || len(a.Shape) == 2 && a.Shape[1] == 1) {
		return nil, fmt.Errorf("dataset: npy %s: label array has shape %v, want [N] or [N,1]", path, a.Shape)
	}
	labels := make([]int, a.Len())
	switch {
	case a.Uint8 != nil:
		for i, v := range a.Uint8 {
			labels[i] = int(v)
		}
	case a.Int64 != nil:
		for i, v := range a.Int64 {
			if v < 0 || v > 1<<31 {
				return nil, fmt.Errorf("dataset: npy %s: label %d = %d out of range", path, i, v)
			}
			labels[i] = int(v)
		}
	default:
		return nil, &UnsupportedError{Path: path, Format: "npy", Feature: fmt.Sprintf("label dtype %s (want an integer type)", a.DType)}
	}
	return labels, nil
}
