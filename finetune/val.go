package finetune

import (
	"context"
	"fmt"
	"slices"

	"github.com/ann2snn/ann2snn/dataset"
	"github.com/ann2snn/ann2snn/snnrt"
)

// Keep-best by validation (Config.Val). The training split is divided
// once, by the seed, into a validation set and the training images
// (splitVal). Trainer.Validate measures the SNN at T on the validation
// set with Evaluate and keeps a copy of the parameters whose accuracy is
// strictly higher than every earlier point's: on ties the earlier point
// wins, so the model as converted (validated before the first step) is
// kept unless training improves on it. The test set plays no part in the
// choice.

// valSeedMix decorrelates the validation sample from the subset and
// shuffling, which use the seed itself.
const valSeedMix = 0x76616c6964617465 // "validate"

// splitVal returns the training images and the validation set of ds:
// the validation set is the first nVal images of a seeded permutation of
// ds (in index order), the training images the others (in index order),
// or, for 0 < subset < their number, a sample of subset of them drawn with
// seed as Config.Subset draws one. The two never share an image.
func splitVal(ds *dataset.Dataset, nVal, subset int, seed uint64) (train, val *dataset.Dataset, err error) {
	trainIdx, valIdx, err := splitIndices(ds, nVal, subset, seed)
	if err != nil {
		return nil, nil, err
	}
	if train, err = ds.Subset(trainIdx); err != nil {
		return nil, nil, err
	}
	if val, err = ds.Subset(valIdx); err != nil {
		return nil, nil, err
	}
	return train, val, nil
}

// splitIndices returns the image indices of splitVal's two parts.
func splitIndices(ds *dataset.Dataset, nVal, subset int, seed uint64) (trainIdx, valIdx []int, err error) {
	if nVal >= ds.Len() {
		return nil, nil, fmt.Errorf("finetune: %d validation images leave none of the %d training images to train on", nVal, ds.Len())
	}
	perm := ds.Sample(ds.Len(), seed^valSeedMix)
	valIdx = slices.Clone(perm[:nVal])
	rest := slices.Clone(perm[nVal:])
	slices.Sort(valIdx)
	slices.Sort(rest)
	if subset <= 0 || subset >= len(rest) {
		return rest, valIdx, nil
	}
	// Sample depends only on the length, k and the seed (its contract):
	// a sample of positions in rest.
	pick := ds.First(len(rest)).Sample(subset, seed)
	trainIdx = make([]int, len(pick))
	for i, p := range pick {
		trainIdx[i] = rest[p]
	}
	return trainIdx, valIdx, nil
}

// ValPoint is one validation measurement.
type ValPoint struct {
	// Epoch and Step are the training position (0-based) of the next
	// step when measured: after Epoch full epochs and Step steps of the
	// next. Steps is the number of steps trained, 0 for the starting
	// model.
	Epoch int `json:"epoch"`
	Step  int `json:"step"`
	Steps int `json:"steps"`
	// Accuracy is the SNN's accuracy at T on the Images validation images.
	Accuracy float64 `json:"accuracy"`
	Images   int     `json:"images"`
	// Best reports that the point was better than every earlier one (the
	// first point always is) and its parameters became the kept ones.
	Best bool `json:"best,omitempty"`
}

// valState is the validation history of a Trainer.
type valState struct {
	curve []ValPoint
	best  *snnrt.Model // parameters of the best point; nil before the first
	at    int          // index in curve of the best point
}

// ValImages returns the number of validation images (0 without
// Config.Val).
func (tr *Trainer) ValImages() int {
	if tr.val == nil {
		return 0
	}
	return tr.val.Len()
}

// Validate measures the current parameters on the validation set
// (accuracy at T with Evaluate, in batches of Config's batch size),
// appends the point to the curve and keeps a copy of the parameters if
// the accuracy is higher than every earlier point's. It returns an error
// without Config.Val, or if ctx is cancelled (nothing is recorded then).
func (tr *Trainer) Validate(ctx context.Context) (ValPoint, error) {
	if tr.val == nil {
		return ValPoint{}, fmt.Errorf("finetune: Validate needs Config.Val > 0")
	}
	m := tr.Model()
	acc, err := Evaluate(ctx, m, tr.val, tr.pre, tr.cfg.T, tr.cfg.batch(), 0)
	if err != nil {
		return ValPoint{}, err
	}
	p := ValPoint{Epoch: tr.epoch, Step: tr.step, Steps: tr.globalStep(), Accuracy: acc, Images: tr.val.Len()}
	if tr.vs.best == nil || acc > tr.vs.curve[tr.vs.at].Accuracy {
		p.Best = true
		m.Metadata[metaValAcc] = fmt.Sprint(acc)
		tr.vs.best, tr.vs.at = m, len(tr.vs.curve)
	}
	tr.vs.curve = append(tr.vs.curve, p)
	return p, nil
}

// metaValAcc records the validation accuracy of a kept model.
const metaValAcc = "finetune.val-accuracy"

// Best returns a copy of the best parameters so far (with the metadata
// of Model at that point plus finetune.val-accuracy) and their
// validation point; ok is false before the first Validate.
func (tr *Trainer) Best() (m *snnrt.Model, p ValPoint, ok bool) {
	if tr.vs.best == nil {
		return nil, ValPoint{}, false
	}
	return cloneModel(tr.vs.best), tr.vs.curve[tr.vs.at], true
}

// ValCurve returns the validation points so far, in order (a resumed
// Trainer includes those before the checkpoint). The caller owns the
// slice.
func (tr *Trainer) ValCurve() []ValPoint { return slices.Clone(tr.vs.curve) }

// globalStep returns the number of steps trained.
func (tr *Trainer) globalStep() int { return tr.epoch*tr.StepsPerEpoch() + tr.step }

// ValDue reports whether the current position is a validation point
// (the start, the end of an epoch or, with Config.ValEvery, a multiple of
// ValEvery steps) not yet validated. It is false without Config.Val.
func (tr *Trainer) ValDue() bool {
	if tr.val == nil {
		return false
	}
	g := tr.globalStep()
	if n := len(tr.vs.curve); n > 0 && tr.vs.curve[n-1].Steps == g {
		return false
	}
	return tr.step == 0 || tr.cfg.ValEvery > 0 && g%tr.cfg.ValEvery == 0
}

// stepsToVal returns the number of steps from the current position to
// the next validation point or the end of the epoch, whichever is first.
func (tr *Trainer) stepsToVal() int {
	n := tr.StepsPerEpoch() - tr.step
	if tr.val != nil && tr.cfg.ValEvery > 0 {
		n = min(n, tr.cfg.ValEvery-tr.globalStep()%tr.cfg.ValEvery)
	}
	return n
}
