package main

import (
	"flag"
	"fmt"
	"slices"

	"github.com/ann2snn/ann2snn/dataset"
)

// dataFlags are the data-selection flags shared by eval, convert and
// finetune. Their names and meaning are a stable contract for scripts.
type dataFlags struct {
	data  string
	split string
	limit int
	batch int
	mean  string
	std   string
}

func (d *dataFlags) register(fs *flag.FlagSet, defaultSplit string) {
	fs.StringVar(&d.data, "data", "", "data set: mnist | fashion-mnist | cifar10:DIR | npy:IMAGES.npy,LABELS.npy")
	fs.StringVar(&d.split, "split", defaultSplit, "split of the data set: test | train")
	fs.IntVar(&d.limit, "limit", 0, "use only the first N images (0 = all)")
	fs.IntVar(&d.batch, "batch", 64, "images per batch")
	fs.StringVar(&d.mean, "mean", "", "per-channel mean a,b,c subtracted after scaling pixels to [0,1] (default: the model's recorded preprocessing)")
	fs.StringVar(&d.std, "std", "", "per-channel std a,b,c divided after subtracting the mean (default: the model's recorded preprocessing)")
}

// open opens the selected data set, applies --limit and checks --batch.
func (d *dataFlags) open() (*dataset.Dataset, error) {
	if d.data == "" {
		return nil, &usageError{"--data is required (mnist, fashion-mnist, cifar10:DIR or npy:IMAGES.npy,LABELS.npy)"}
	}
	if d.batch <= 0 {
		return nil, &usageError{fmt.Sprintf("--batch must be positive, got %d", d.batch)}
	}
	if d.limit < 0 {
		return nil, &usageError{fmt.Sprintf("--limit must not be negative, got %d", d.limit)}
	}
	split, err := dataset.ParseSplit(d.split)
	if err != nil {
		return nil, &usageError{err.Error()}
	}
	ds, err := dataset.Open(d.data, split)
	if err != nil {
		return nil, badInput(err)
	}
	if d.limit > 0 && d.limit < ds.Len() {
		ds = ds.First(d.limit)
	}
	return ds, nil
}

// preprocess returns the input preprocessing: --mean/--std when given,
// else the model's recorded preprocessing (meta), else pixels/255.
func (d *dataFlags) preprocess(meta map[string]string) (dataset.Preprocess, error) {
	pre := dataset.Preprocess{Scale: 1.0 / 255}
	if p, ok, err := dataset.PreprocessFromMeta(meta); err != nil {
		return pre, badInput(fmt.Errorf("model metadata: %w", err))
	} else if ok {
		pre = p
	}
	if d.mean != "" {
		m, err := dataset.ParseFloats(d.mean)
		if err != nil {
			return pre, &usageError{fmt.Sprintf("--mean: %v", err)}
		}
		pre.Mean = m
	}
	if d.std != "" {
		s, err := dataset.ParseFloats(d.std)
		if err != nil {
			return pre, &usageError{fmt.Sprintf("--std: %v", err)}
		}
		pre.Std = s
	}
	return pre, nil
}

// openFor opens the selected data set for the model at path, whose input
// has the per-image shape in and whose recorded preprocessing is meta. It
// returns the data set and the preprocessing, or an error naming the model
// when the images do not fit it.
func (d *dataFlags) openFor(path string, in []int, meta map[string]string) (*dataset.Dataset, dataset.Preprocess, error) {
	ds, err := d.open()
	if err != nil {
		return nil, dataset.Preprocess{}, err
	}
	pre, err := d.preprocess(meta)
	if err != nil {
		return nil, pre, err
	}
	if err := checkShapes(ds, in); err != nil {
		return nil, pre, badInput(fmt.Errorf("%s with %s: %w", path, d.data, err))
	}
	return ds, pre, nil
}

// checkShapes reports whether images of ds fit the model input shape.
func checkShapes(ds *dataset.Dataset, in []int) error {
	if got := ds.Shape(); !slices.Equal(got[:], in) {
		return fmt.Errorf("images have shape %v, model wants %v (use --data with the data set the model was made for)", got, in)
	}
	return nil
}
