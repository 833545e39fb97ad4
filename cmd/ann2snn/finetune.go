package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/ann2snn/ann2snn/dataset"
	"github.com/ann2snn/ann2snn/finetune"
	"github.com/ann2snn/ann2snn/internal/progress"
	"github.com/ann2snn/ann2snn/snnrt"
)

// finetuneFlags are the flags of "ann2snn finetune".
type finetuneFlags struct {
	dataFlags
	out         string
	timesteps   int
	epochs      int
	subset      int
	lr          float64
	optimizer   string
	momentum    float64
	wd          float64
	surrogate   string
	loss        string
	rateReg     float64
	memReg      float64
	augment     string
	seed        uint64
	evalLimit   int
	evalBefore  bool
	cpuprof     string
	freezeTheta bool
	resume      bool
	json        bool
	val         int
	valEvery    int
	warmup      int
	grad        gradFlags

	// src is the model argument.
	src string
}

type finetuneResult struct {
	Model      string                 `json:"model"`
	Output     string                 `json:"output"`
	DataInfo   *dataInfo              `json:"data_info,omitempty"` // the training data and the preprocessing applied
	T          int                    `json:"t"`
	Images     int                    `json:"train_images"`
	InitialAcc *float64               `json:"initial_test_accuracy,omitempty"`
	Epochs     []finetune.EpochRecord `json:"epochs"`
	// GradReports are the --grad-every measurements, in training order.
	GradReports []*finetune.GradReport `json:"grad_reports,omitempty"`
	// ValImages, Val and Kept (--val): the held-out images, the
	// validation curve and the point whose model was written.
	ValImages int                 `json:"val_images,omitempty"`
	Val       []finetune.ValPoint `json:"val,omitempty"`
	Kept      *finetune.ValPoint  `json:"kept,omitempty"`
}

func runFinetune(ctx context.Context, args []string, stdout, stderr io.Writer) (err error) {
	var f finetuneFlags
	job, err := f.parse(args, stderr)
	if err != nil {
		return err
	}
	logf := func(format string, a ...any) {
		if !f.json {
			fmt.Fprintf(stdout, format, a...)
		}
	}
	logf("%s\n", f.applied)
	if f.grad.report {
		tr, err := job.Trainer()
		if err != nil {
			return badInput(err)
		}
		return f.grad.compare(ctx, tr, job.Seed, stdout, f.json)
	}
	stopProfile, err := startCPUProfile(f.cpuprof)
	if err != nil {
		return err
	}
	defer finishCPUProfile(stopProfile, &err)
	job.Hold = func() func() { return holdInterrupt(ctx) } // a checkpoint outlives the interrupt grace
	p := &finetunePrinter{w: stdout, stderr: stderr, quiet: f.json, job: job}
	rep, err := finetune.Run(ctx, job, p.events())
	p.endBar()
	var ie *finetune.InterruptedError
	switch {
	case errors.As(err, &ie):
		return fmt.Errorf("interrupted at epoch %d step %d: checkpoint written to %s (continue with --resume): %w", ie.Epoch+1, ie.Step, ie.Path, ie.Err)
	case rep == nil:
		return badInput(err)
	case err != nil:
		return err
	}
	if f.grad.plot != "" && len(rep.GradReports) > 0 {
		if err := plotGradSeries(f.grad.plot, rep.GradReports, rep.StepsPerEpoch); err != nil {
			return err
		}
		logf("gradient plot written to %s\n", f.grad.plot)
	}
	p.kept(rep)
	if f.json {
		return json.NewEncoder(stdout).Encode(finetuneResult{Model: f.src, Output: job.Out, DataInfo: &f.applied, T: job.T,
			Images: rep.TrainImages, InitialAcc: rep.InitialTestAcc, Epochs: rep.Epochs, GradReports: rep.GradReports,
			ValImages: rep.ValImages, Val: rep.Val, Kept: rep.Kept})
	}
	return nil
}

// parse registers and parses the flags, loads the model and the data and
// returns the Job they describe.
func (f *finetuneFlags) parse(args []string, stderr io.Writer) (*finetune.Job, error) {
	fs := newFlagSet("finetune", "model.snn", stderr)
	f.register(fs, "train")
	fs.StringVar(&f.out, "o", "", "output .snn (also the checkpoint; optimizer state goes to OUT"+finetune.StateSuffix+", with --val the best model so far to OUT"+finetune.BestSuffix+") (default: model-tuned.snn)")
	fs.IntVar(&f.timesteps, "timesteps", 4, "time steps T the SNN is trained and evaluated at")
	fs.IntVar(&f.epochs, "epochs", 5, "epochs (also the length of the cosine learning-rate schedule)")
	fs.IntVar(&f.subset, "subset", 0, "train on a fixed random sample of K training images (0 = all)")
	fs.Float64Var(&f.lr, "lr", 0, "initial learning rate, cosine-annealed to 0 (default 1e-4 adam, 1e-3 sgd)")
	fs.StringVar(&f.optimizer, "optimizer", "adam", "adam | sgd (momentum)")
	fs.Float64Var(&f.momentum, "momentum", 0.9, "SGD momentum")
	fs.Float64Var(&f.wd, "wd", 0, "weight decay of conv and linear weights (decoupled for adam)")
	fs.StringVar(&f.surrogate, "surrogate", "atan", "surrogate gradient: rect | sigmoid | atan | triangle, optionally :WIDTH or :SHARPNESS (e.g. atan:2)")
	fs.StringVar(&f.loss, "loss", "mean", "mean (cross-entropy of the mean output) | tet (per-step cross-entropy)")
	fs.Float64Var(&f.rateReg, "rate-reg", 0, "weight of the mean-firing-rate regulariser")
	fs.Float64Var(&f.memReg, "mem-reg", 0, "weight of the residual-membrane regulariser mean (v_T/θ − 1/2)² (needs reset by subtraction)")
	fs.StringVar(&f.augment, "augment", "auto", "random crop (4-pixel padding) + horizontal flip: auto (on for cifar10) | on | off")
	fs.Uint64Var(&f.seed, "seed", 1, "seed of the subset, the validation sample, the shuffling and the augmentation")
	fs.IntVar(&f.evalLimit, "eval-limit", 0, "evaluate on the first N test images after each epoch (0 = all)")
	fs.BoolVar(&f.evalBefore, "eval-before", false, "also evaluate before training")
	fs.StringVar(&f.cpuprof, "cpuprofile", "", "write a CPU profile of the training to this file")
	fs.BoolVar(&f.freezeTheta, "freeze-theta", false, "keep the thresholds fixed")
	fs.BoolVar(&f.resume, "resume", false, "continue from the checkpoint at -o (same data and settings)")
	fs.BoolVar(&f.json, "json", false, "print one JSON object on stdout instead of text")
	fs.IntVar(&f.val, "val", 0, "hold out N training images (a seeded sample, never trained on), validate the SNN on them before training and after every epoch, and write the best model by validation accuracy (earlier on ties: never worse than the input on them) (0 = off: write the last)")
	fs.IntVar(&f.valEvery, "val-every", 0, "with --val: also validate every K training steps (0 = after epochs only)")
	fs.IntVar(&f.warmup, "warmup", 0, "raise the learning rate linearly over the first `STEPS` training steps: (s+1)/STEPS times the cosine schedule at step s (0 = none)")
	f.grad.register(fs)
	pos, err := parseFlags(fs, args)
	if err != nil {
		return nil, err
	}
	if len(pos) != 1 {
		return nil, &usageError{"want exactly one model.snn argument"}
	}
	f.src = pos[0]
	cfg, err := f.config()
	if err != nil {
		return nil, err
	}
	out, err := outputPath(f.src, f.out, "-tuned.snn")
	if err != nil {
		return nil, err
	}
	m, err := snnrt.Load(f.src)
	if err != nil {
		return nil, badInput(err)
	}
	train, pre, err := f.openFor(f.src, snnInput(m), m.Metadata)
	if err != nil {
		return nil, err
	}
	test, err := f.openSplit(dataset.Test, m.Metadata)
	if err != nil {
		return nil, err
	}
	if err := checkShapes(test, snnInput(m)); err != nil {
		return nil, badInput(fmt.Errorf("%s with %s: %w", f.src, f.data, err))
	}
	for _, ds := range []*dataset.Dataset{train, test} {
		if err := checkLabels(ds, m.Layers[m.Output].Shape.Len(), f.src); err != nil {
			return nil, err
		}
	}
	switch f.augment {
	case "on":
		cfg.Augment = true
	case "auto":
		cfg.Augment = strings.HasPrefix(f.data, "cifar10")
	case "off":
	default:
		return nil, &usageError{"--augment: want auto, on or off"}
	}
	if f.val >= train.Len() {
		return nil, &usageError{fmt.Sprintf("--val %d: want fewer than the %d training images", f.val, train.Len())}
	}
	return &finetune.Job{Config: cfg, Model: m, Train: train, Pre: pre, Test: test, TestLimit: f.evalLimit,
		EvalBefore: f.evalBefore, EvalBatch: f.batch, Out: out, Resume: f.resume,
		GradEvery: f.grad.every, Grad: f.grad.reportConfig(cfg.Seed)}, nil
}

// finetunePrinter prints a Run's events: text lines on w (unless quiet)
// and a progress bar per epoch on stderr.
type finetunePrinter struct {
	w, stderr io.Writer
	quiet     bool
	job       *finetune.Job
	bar       *progress.Bar
}

func (p *finetunePrinter) logf(format string, a ...any) {
	if !p.quiet {
		fmt.Fprintf(p.w, format, a...)
	}
}

func (p *finetunePrinter) events() finetune.Events {
	job := p.job
	var loss float64
	var correct, seen, total int
	return finetune.Events{
		Before: func(acc float64, images int) {
			p.logf("before: test accuracy %.2f%% (T=%d, %d images)\n", 100*acc, job.T, images)
		},
		Resumed: func(e, s int) { p.logf("resuming %s at epoch %d step %d\n", job.Out, e+1, s) },
		EpochStart: func(epoch, images int) {
			p.endBar()
			loss, correct, seen, total = 0, 0, 0, images
			p.bar = progress.New(p.stderr, fmt.Sprintf("epoch %d/%d", epoch+1, job.Epochs), images)
			p.bar.Extra = func() string {
				return fmt.Sprintf("loss %.4f acc %.2f%%", loss, 100*float64(correct)/float64(max(seen, 1)))
			}
		},
		Step: func(s finetune.StepStats) {
			seen += s.Images
			correct += s.Correct
			loss += (s.Loss - loss) * float64(s.Images) / float64(seen)
			p.bar.Add(s.Images)
			if (s.Step+1)*s.Images == total { // the epoch's last step
				p.endBar()
			}
		},
		Val: func(v finetune.ValPoint) {
			best := ""
			if v.Best {
				best = " (best so far)"
			}
			p.logf("validation at %s: accuracy %.2f%% (T=%d, %d held-out training images)%s\n", valWhere(v), 100*v.Accuracy, job.T, v.Images, best)
		},
		Grad: func(rep *finetune.GradReport) {
			if !p.quiet {
				printGradReport(p.w, rep)
			}
		},
		Epoch: func(rec finetune.EpochRecord) {
			p.endBar()
			p.logf("epoch %d/%d: train loss %.4f acc %.2f%% | test acc %.2f%% (T=%d, %d images) | %.1f images/s, %s | saved %s\n",
				rec.Epoch, job.Epochs, rec.TrainLoss, 100*rec.TrainAcc, 100*rec.TestAcc, job.T, rec.TestImages,
				rec.ImagesPerS, time.Duration(rec.TrainSeconds*float64(time.Second)).Round(time.Second), job.Out)
		},
	}
}

// endBar finishes the epoch's progress bar, if one is drawn.
func (p *finetunePrinter) endBar() {
	if p.bar != nil {
		p.bar.Done()
		p.bar = nil
	}
}

// kept prints which model --val kept.
func (p *finetunePrinter) kept(rep *finetune.Report) {
	if rep.Kept == nil {
		return
	}
	k := rep.Kept
	p.logf("kept the model at %s: validation accuracy %.2f%% (%d images); wrote %s\n", valWhere(*k), 100*k.Accuracy, k.Images, p.job.Out)
	if p.quiet {
		return
	}
	tw := tabwriter.NewWriter(p.w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "steps\tat\tval acc %\tkept\t")
	for _, v := range rep.Val {
		mark := ""
		if v.Steps == k.Steps {
			mark = "*"
		}
		fmt.Fprintf(tw, "%d\t%s\t%.2f\t%s\t\n", v.Steps, valWhere(v), 100*v.Accuracy, mark)
	}
	tw.Flush()
}

// valWhere names a validation point's position.
func valWhere(v finetune.ValPoint) string {
	switch {
	case v.Steps == 0:
		return "the start"
	case v.Step == 0:
		return fmt.Sprintf("the end of epoch %d", v.Epoch)
	}
	return fmt.Sprintf("epoch %d step %d", v.Epoch+1, v.Step)
}

// config turns the flags into a finetune.Config.
func (f *finetuneFlags) config() (finetune.Config, error) {
	cfg := finetune.Config{T: f.timesteps, Batch: f.batch, Epochs: f.epochs, Subset: f.subset, LR: f.lr,
		Momentum: f.momentum, WeightDecay: f.wd, RateReg: float32(f.rateReg), MemReg: float32(f.memReg), Seed: f.seed,
		FreezeThresholds: f.freezeTheta, Data: f.data + ":" + f.split,
		WidthAnneal: float32(f.grad.anneal), AutoWidth: f.grad.autoWidth, Val: f.val, ValEvery: f.valEvery, Warmup: f.warmup}
	var err error
	if err := f.grad.check(); err != nil {
		return cfg, err
	}
	if err := checkTimesteps(f.timesteps); err != nil {
		return cfg, err
	}
	for _, c := range []struct {
		name   string
		v, lo  float64
		hiExcl float64
	}{{"lr", f.lr, 0, math.Inf(1)}, {"wd", f.wd, 0, math.Inf(1)}, {"rate-reg", f.rateReg, 0, math.Inf(1)}, {"mem-reg", f.memReg, 0, math.Inf(1)}, {"momentum", f.momentum, 0, 1}} {
		if err := checkFloatFlag(c.name, c.v, c.lo, c.hiExcl); err != nil {
			return cfg, err
		}
	}
	switch {
	case f.epochs < 1:
		return cfg, &usageError{"--epochs must be at least 1"}
	case f.subset < 0 || f.evalLimit < 0 || f.val < 0 || f.valEvery < 0 || f.warmup < 0:
		return cfg, &usageError{"--subset, --eval-limit, --val, --val-every and --warmup must not be negative"}
	case f.valEvery > 0 && f.val == 0:
		return cfg, &usageError{"--val-every needs --val"}
	case f.lr < 0 || f.wd < 0 || f.rateReg < 0 || f.momentum < 0 || f.momentum >= 1:
		return cfg, &usageError{"--lr, --wd and --rate-reg must be ≥ 0, --momentum in [0,1)"}
	}
	if cfg.Optimizer, err = finetune.ParseOptimizer(f.optimizer); err != nil {
		return cfg, &usageError{"--optimizer: " + err.Error()}
	}
	if cfg.Surrogate, err = finetune.ParseSurrogate(f.surrogate); err != nil {
		return cfg, &usageError{"--surrogate: " + err.Error()}
	}
	if cfg.Loss, err = finetune.ParseLoss(f.loss); err != nil {
		return cfg, &usageError{"--loss: " + err.Error()}
	}
	return cfg, nil
}
