package finetune

import (
	"context"
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/ann2snn/ann2snn/dataset"
	"github.com/ann2snn/ann2snn/snnrt"
)

// Job is a whole fine-tuning run as "ann2snn finetune" performs it:
// training with a checkpoint after every epoch, a test evaluation after
// every epoch, validation and keep-best (Config.Val), gradient reports
// and resuming. Run executes it.
type Job struct {
	// Config holds the training settings.
	Config
	// Model is the model to fine-tune; it is not modified. Unused when
	// Resume is set (the checkpoint at Out holds the model).
	Model *snnrt.Model
	// Train is the labelled training split (before Config.Val and
	// Config.Subset) and Pre its preprocessing, also applied to Test.
	Train *dataset.Dataset
	Pre   dataset.Preprocess
	// Test, if not nil, is evaluated after every epoch (its first
	// TestLimit images; 0 = all) and, with EvalBefore, before training.
	// It plays no part in choosing the kept model.
	Test       *dataset.Dataset
	TestLimit  int
	EvalBefore bool
	// EvalBatch is the batch size of test evaluations; 0 means Config's
	// batch size.
	EvalBatch int
	// Out is the output model, also the checkpoint (Trainer.SaveCheckpoint
	// writes it after every epoch and on cancellation). Required.
	Out string
	// Resume continues the checkpoint at Out instead of starting from
	// Model.
	Resume bool
	// GradEvery > 0 measures a gradient report (with Grad) before the
	// first step, every GradEvery steps and after the last.
	GradEvery int
	Grad      ReportConfig
	// Hold, if not nil, is called around every checkpoint write; the
	// returned function ends the section. The command line uses it to
	// finish a checkpoint after an interrupt.
	Hold func() (release func())
}

// Trainer returns the Job's Trainer: Resume(Out, ...) or New(Model, ...).
func (j *Job) Trainer() (*Trainer, error) {
	if j.Resume {
		return Resume(j.Out, j.Train, j.Pre, j.Config)
	}
	return New(j.Model, j.Train, j.Pre, j.Config)
}

// Events receives a Run's progress, in order, on Run's goroutine. Nil
// fields are skipped.
type Events struct {
	// Before receives the test accuracy before training (Job.EvalBefore).
	Before func(acc float64, images int)
	// Resumed is called before training when Run continues a checkpoint,
	// with the position (0-based) of the next step.
	Resumed func(epoch, step int)
	// EpochStart is called when an epoch's (remaining) steps begin; images
	// is the number of images of a whole epoch.
	EpochStart func(epoch, images int)
	// Step is called after every training step.
	Step func(StepStats)
	// Val receives every validation point (Config.Val).
	Val func(ValPoint)
	// Grad receives every gradient report (Job.GradEvery).
	Grad func(*GradReport)
	// Epoch receives the record of every finished epoch, after its
	// checkpoint is written.
	Epoch func(EpochRecord)
}

// EpochRecord describes one finished epoch; its JSON form is part of the
// command line's --json output.
type EpochRecord struct {
	// Epoch is 1-based.
	Epoch int `json:"epoch"`
	// TrainLoss and TrainAcc are the mean batch loss and the accuracy
	// over the epoch's steps (those run in this process, after a resume).
	TrainLoss float64 `json:"train_loss"`
	TrainAcc  float64 `json:"train_accuracy"`
	// TestAcc is the accuracy on TestImages test images (0 and 0 without
	// Job.Test).
	TestAcc    float64 `json:"test_accuracy"`
	TestImages int     `json:"test_images"`
	// ImagesPerS and TrainSeconds time the training steps (validation
	// and test evaluation excluded).
	ImagesPerS   float64 `json:"images_per_s"`
	TrainSeconds float64 `json:"train_s"`
	// ValAcc is the validation accuracy at the end of the epoch
	// (Config.Val; nil without).
	ValAcc *float64 `json:"val_accuracy,omitempty"`
}

// Report is the outcome of a Run.
type Report struct {
	// TrainImages and ValImages count the training images (after Val and
	// Subset) and the validation images.
	TrainImages, ValImages int
	// StepsPerEpoch is the number of training steps of an epoch.
	StepsPerEpoch int
	// InitialTestAcc is the test accuracy before training (Job.EvalBefore).
	InitialTestAcc *float64
	// Epochs are the epochs finished by this Run, in order.
	Epochs []EpochRecord
	// Val is the whole validation curve (including the points before a
	// resumed checkpoint) and Kept the point whose parameters were
	// written to Job.Out; nil without Config.Val.
	Val  []ValPoint
	Kept *ValPoint
	// GradReports are the gradient reports of this Run, in order.
	GradReports []*GradReport
}

// InterruptedError reports a Run stopped by its context after writing a
// checkpoint at Path; Job.Resume continues it. It unwraps to the
// context's error.
type InterruptedError struct {
	// Epoch and Step are the 0-based position of the next step.
	Epoch, Step int
	Path        string
	Err         error
}

// Error names the position and the checkpoint.
func (e *InterruptedError) Error() string {
	return fmt.Sprintf("finetune: interrupted at epoch %d step %d: checkpoint written to %s: %v", e.Epoch+1, e.Step, e.Path, e.Err)
}

// Unwrap returns the context's error.
func (e *InterruptedError) Unwrap() error { return e.Err }

// Run executes job: it trains for Config.Epochs epochs (the rest of them
// after a resume), writes the checkpoint Job.Out after every epoch,
// evaluates Job.Test after every epoch and, with Config.Val, validates at
// the start, after every epoch and every Config.ValEvery steps. The model
// left at Job.Out is the last one or, with Config.Val, the best by
// validation accuracy (the earlier on ties); the sidecars Out+StateSuffix
// and Out+BestSuffix are then removed, since a finished run has nothing
// to resume. If ctx is cancelled Run writes a checkpoint and returns an
// *InterruptedError. If the Job cannot start (settings, data, model or
// checkpoint refused by New or Resume) Run returns a nil Report and the
// error; once training has started the Report comes with any error,
// holding what was done.
func Run(ctx context.Context, job *Job, ev Events) (*Report, error) {
	if job.Out == "" {
		return nil, errors.New("finetune: Run: no output path")
	}
	tr, err := job.Trainer()
	if err != nil {
		return nil, err
	}
	r := &runner{job: job, ev: ev, tr: tr, rep: &Report{TrainImages: tr.TrainImages(), ValImages: tr.ValImages(),
		StepsPerEpoch: tr.StepsPerEpoch()}}
	err = r.run(ctx)
	r.rep.Val = tr.ValCurve()
	if _, p, ok := tr.Best(); ok {
		r.rep.Kept = &p
	}
	return r.rep, err
}

// runner is the state of one Run.
type runner struct {
	job *Job
	ev  Events
	tr  *Trainer
	rep *Report
}

func (r *runner) run(ctx context.Context) error {
	tr, job := r.tr, r.job
	if job.EvalBefore && job.Test != nil {
		acc, images, err := r.test(ctx)
		if err != nil {
			return err
		}
		r.rep.InitialTestAcc = &acc
		if r.ev.Before != nil {
			r.ev.Before(acc, images)
		}
	}
	if e, s := tr.Position(); e == 0 && s == 0 {
		if err := r.grad(ctx); err != nil {
			return err
		}
	}
	if e, s := tr.Position(); job.Resume && r.ev.Resumed != nil {
		r.ev.Resumed(e, s)
	}
	for {
		if err := r.validate(ctx); err != nil {
			return r.interrupted(ctx, err)
		}
		if tr.Done() {
			break
		}
		if err := r.epoch(ctx); err != nil {
			return err
		}
	}
	if err := r.grad(ctx); err != nil {
		return err
	}
	return r.finish()
}

// epoch runs the rest of the current epoch, validating where due, writes
// the checkpoint and evaluates the test set.
func (r *runner) epoch(ctx context.Context) error {
	tr, job := r.tr, r.job
	epoch, _ := tr.Position()
	if r.ev.EpochStart != nil {
		r.ev.EpochStart(epoch, tr.StepsPerEpoch()*tr.net.opt.n)
	}
	total := tr.StepsPerEpoch() * tr.cfg.epochs()
	var gradErr error
	onStep := func(s StepStats) {
		if r.ev.Step != nil {
			r.ev.Step(s)
		}
		// Every GradEvery steps; the last step's report comes after training.
		if g := s.Epoch*tr.StepsPerEpoch() + s.Step + 1; job.GradEvery > 0 && gradErr == nil && g%job.GradEvery == 0 && g < total {
			gradErr = r.grad(ctx)
		}
	}
	var sum EpochStats
	var dt float64
	for {
		start := time.Now()
		es, err := tr.RunSteps(ctx, tr.stepsToVal(), onStep)
		dt += time.Since(start).Seconds()
		sum = addStats(sum, es)
		if gradErr != nil {
			return gradErr
		}
		if err != nil {
			return r.interrupted(ctx, err)
		}
		if e, _ := tr.Position(); e != epoch {
			break
		}
		if err := r.validate(ctx); err != nil {
			return r.interrupted(ctx, err)
		}
	}
	rec := EpochRecord{Epoch: epoch + 1, TrainLoss: sum.Loss, TrainAcc: sum.Accuracy(),
		ImagesPerS: float64(sum.Images) / dt, TrainSeconds: dt}
	if err := r.validate(ctx); err != nil {
		return r.interrupted(ctx, err)
	}
	if n := len(tr.vs.curve); n > 0 && tr.vs.curve[n-1].Steps == tr.globalStep() {
		acc := tr.vs.curve[n-1].Accuracy
		rec.ValAcc = &acc
	}
	if err := r.checkpoint(); err != nil {
		return err
	}
	if job.Test != nil {
		var err error
		if rec.TestAcc, rec.TestImages, err = r.test(ctx); err != nil {
			return r.interrupted(ctx, err)
		}
	}
	r.rep.Epochs = append(r.rep.Epochs, rec)
	if r.ev.Epoch != nil {
		r.ev.Epoch(rec)
	}
	return nil
}

// addStats merges the stats of consecutive parts of an epoch.
func addStats(a, b EpochStats) EpochStats {
	if a.Steps == 0 {
		return b
	}
	if b.Steps == 0 {
		return a
	}
	s := EpochStats{Epoch: a.Epoch, Steps: a.Steps + b.Steps, Images: a.Images + b.Images, Correct: a.Correct + b.Correct}
	s.Loss = (a.Loss*float64(a.Steps) + b.Loss*float64(b.Steps)) / float64(s.Steps)
	return s
}

// validate validates the current parameters if the position is due.
func (r *runner) validate(ctx context.Context) error {
	if !r.tr.ValDue() {
		return nil
	}
	p, err := r.tr.Validate(ctx)
	if err != nil {
		return err
	}
	if r.ev.Val != nil {
		r.ev.Val(p)
	}
	return nil
}

// test evaluates the current parameters on the test set.
func (r *runner) test(ctx context.Context) (acc float64, images int, err error) {
	j := r.job
	images = j.Test.Len()
	if j.TestLimit > 0 && j.TestLimit < images {
		images = j.TestLimit
	}
	batch := j.EvalBatch
	if batch <= 0 {
		batch = j.Config.batch()
	}
	acc, err = Evaluate(ctx, r.tr.Model(), j.Test, j.Pre, j.T, batch, images)
	return acc, images, err
}

// grad measures a gradient report (Job.GradEvery).
func (r *runner) grad(ctx context.Context) error {
	if r.job.GradEvery <= 0 {
		return nil
	}
	rep, err := r.tr.GradReport(ctx, r.job.Grad)
	if err != nil {
		return err
	}
	r.rep.GradReports = append(r.rep.GradReports, rep)
	if r.ev.Grad != nil {
		r.ev.Grad(rep)
	}
	return nil
}

// hold runs f inside Job.Hold's section.
func (r *runner) hold(f func() error) error {
	if r.job.Hold != nil {
		defer r.job.Hold()()
	}
	return f()
}

// checkpoint writes the checkpoint at Job.Out.
func (r *runner) checkpoint() error {
	return r.hold(func() error { return r.tr.SaveCheckpoint(r.job.Out) })
}

// interrupted turns a cancellation into a checkpoint and an
// *InterruptedError; other errors pass through.
func (r *runner) interrupted(ctx context.Context, err error) error {
	if ctx.Err() == nil || !errors.Is(err, ctx.Err()) {
		return err
	}
	if serr := r.checkpoint(); serr != nil {
		return fmt.Errorf("%w; writing the checkpoint failed: %v", err, serr)
	}
	e, s := r.tr.Position()
	return &InterruptedError{Epoch: e, Step: s, Path: r.job.Out, Err: err}
}

// finish writes the kept model (Config.Val) to Job.Out and removes the
// checkpoint's sidecars; without Config.Val the last checkpoint is the
// result.
func (r *runner) finish() error {
	best, _, ok := r.tr.Best()
	if !ok {
		return nil
	}
	return r.hold(func() error {
		if err := best.Save(r.job.Out); err != nil {
			return err
		}
		for _, p := range []string{r.job.Out + BestSuffix, r.job.Out + StateSuffix} {
			if err := os.Remove(p); err != nil && !errors.Is(err, os.ErrNotExist) {
				return fmt.Errorf("finetune: %w", err)
			}
		}
		return nil
	})
}
