package finetune

import (
	"math/rand/v2"

	"github.com/ann2snn/ann2snn/dataset"
)

// cropPad is the zero padding of the random-crop augmentation.
const cropPad = 4

// padValues returns, per channel, the preprocessed value of a raw 0 pixel
// ((0·scale − mean)/std): the colour of the augmentation's zero padding
// after normalisation.
func padValues(pre dataset.Preprocess, channels int) []float32 {
	v := make([]float32, channels)
	for c := range v {
		v[c] = pre.Value(c, 0)
	}
	return v
}

// augment applies the CIFAR augmentation in place to one preprocessed
// image x [C,H,W]: a random crop of the image zero-padded by 4 pixels on
// every side (pad[c] is the value of a padded pixel) and, with probability
// 1/2, a horizontal flip. scratch holds at least len(x) floats.
func augment(x, scratch []float32, c, h, w int, pad []float32, r *rand.Rand) {
	dy := int(r.Uint64()%(2*cropPad+1)) - cropPad
	dx := int(r.Uint64()%(2*cropPad+1)) - cropPad
	flip := r.Uint64()&1 == 1
	src := scratch[:len(x)]
	copy(src, x)
	for ch := 0; ch < c; ch++ {
		in, out := src[ch*h*w:(ch+1)*h*w], x[ch*h*w:(ch+1)*h*w]
		for y := 0; y < h; y++ {
			sy := y + dy
			for xx := 0; xx < w; xx++ {
				sx := xx + dx
				if flip {
					sx = w - 1 - xx + dx
				}
				v := pad[ch]
				if sy >= 0 && sy < h && sx >= 0 && sx < w {
					v = in[sy*w+sx]
				}
				out[y*w+xx] = v
			}
		}
	}
}
