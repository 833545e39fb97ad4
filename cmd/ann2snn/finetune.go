package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"strings"
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
	grad        gradFlags
}

// finetuneEpoch is one epoch's record; part of the --json contract.
type finetuneEpoch struct {
	Epoch        int     `json:"epoch"`
	TrainLoss    float64 `json:"train_loss"`
	TrainAcc     float64 `json:"train_accuracy"`
	TestAcc      float64 `json:"test_accuracy"`
	TestImages   int     `json:"test_images"`
	ImagesPerS   float64 `json:"images_per_s"`
	TrainSeconds float64 `json:"train_s"`
}

type finetuneResult struct {
	Model      string          `json:"model"`
	Output     string          `json:"output"`
	DataInfo   *dataInfo       `json:"data_info,omitempty"` // the training data and the preprocessing applied
	T          int             `json:"t"`
	Images     int             `json:"train_images"`
	InitialAcc *float64        `json:"initial_test_accuracy,omitempty"`
	Epochs     []finetuneEpoch `json:"epochs"`
	// GradReports are the --grad-every measurements, in training order.
	GradReports []*finetune.GradReport `json:"grad_reports,omitempty"`
}

func runFinetune(ctx context.Context, args []string, stdout, stderr io.Writer) (err error) {
	var f finetuneFlags
	fs := newFlagSet("finetune", "model.snn", stderr)
	f.register(fs, "train")
	fs.StringVar(&f.out, "o", "", "output .snn (also the checkpoint; optimizer state goes to OUT"+finetune.StateSuffix+") (default: model-tuned.snn)")
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
	fs.Uint64Var(&f.seed, "seed", 1, "seed of the subset, the shuffling and the augmentation")
	fs.IntVar(&f.evalLimit, "eval-limit", 0, "evaluate on the first N test images after each epoch (0 = all)")
	fs.BoolVar(&f.evalBefore, "eval-before", false, "also evaluate before training")
	fs.StringVar(&f.cpuprof, "cpuprofile", "", "write a CPU profile of the training to this file")
	fs.BoolVar(&f.freezeTheta, "freeze-theta", false, "keep the thresholds fixed")
	fs.BoolVar(&f.resume, "resume", false, "continue from the checkpoint at -o (same data and settings)")
	fs.BoolVar(&f.json, "json", false, "print one JSON object on stdout instead of text")
	f.grad.register(fs)
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return &usageError{"want exactly one model.snn argument"}
	}
	src := pos[0]
	cfg, err := f.config()
	if err != nil {
		return err
	}
	out, err := outputPath(src, f.out, "-tuned.snn")
	if err != nil {
		return err
	}
	m, err := snnrt.Load(src)
	if err != nil {
		return badInput(err)
	}
	train, pre, err := f.openFor(src, snnInput(m), m.Metadata)
	if err != nil {
		return err
	}
	test, err := f.openSplit(dataset.Test, m.Metadata)
	if err != nil {
		return err
	}
	if err := checkShapes(test, snnInput(m)); err != nil {
		return badInput(fmt.Errorf("%s with %s: %w", src, f.data, err))
	}
	for _, ds := range []*dataset.Dataset{train, test} {
		if err := checkLabels(ds, m.Layers[m.Output].Shape.Len(), src); err != nil {
			return err
		}
	}
	switch f.augment {
	case "on":
		cfg.Augment = true
	case "auto":
		cfg.Augment = strings.HasPrefix(f.data, "cifar10")
	case "off":
	default:
		return &usageError{"--augment: want auto, on or off"}
	}
	var tr *finetune.Trainer
	if f.resume {
		tr, err = finetune.Resume(out, train, pre, cfg)
	} else {
		tr, err = finetune.New(m, train, pre, cfg)
	}
	if err != nil {
		return badInput(err)
	}
	res := finetuneResult{Model: src, Output: out, DataInfo: &f.applied, T: cfg.T, Images: tr.TrainImages()}
	logf := func(format string, a ...any) {
		if !f.json {
			fmt.Fprintf(stdout, format, a...)
		}
	}
	logf("%s\n", f.applied)
	if f.grad.report {
		return f.grad.compare(ctx, tr, cfg.Seed, stdout, f.json)
	}
	var gradErr error
	gradAt := func() {
		if f.grad.every == 0 || gradErr != nil {
			return
		}
		rep, err := f.grad.gradReport(ctx, tr, cfg.Seed, stdout, f.json)
		if err != nil {
			gradErr = err
			return
		}
		res.GradReports = append(res.GradReports, rep)
	}
	evalLimit := f.evalLimit
	if evalLimit <= 0 || evalLimit > test.Len() {
		evalLimit = test.Len()
	}
	if f.evalBefore {
		acc, err := finetune.Evaluate(ctx, tr.Model(), test, pre, cfg.T, f.batch, evalLimit)
		if err != nil {
			return err
		}
		res.InitialAcc = &acc
		logf("before: test accuracy %.2f%% (T=%d, %d images)\n", 100*acc, cfg.T, evalLimit)
	}
	if e, s := tr.Position(); e == 0 && s == 0 {
		gradAt()
	}
	if e, s := tr.Position(); f.resume {
		logf("resuming %s at epoch %d step %d\n", out, e+1, s)
	}
	stopProfile, err := startCPUProfile(f.cpuprof)
	if err != nil {
		return err
	}
	defer finishCPUProfile(stopProfile, &err)
	for !tr.Done() {
		epoch, _ := tr.Position()
		bar := progress.New(stderr, fmt.Sprintf("epoch %d/%d", epoch+1, cfg.Epochs), tr.StepsPerEpoch()*min(cfg.Batch, tr.TrainImages()))
		var loss float64
		correct, seen := 0, 0
		bar.Extra = func() string {
			return fmt.Sprintf("loss %.4f acc %.2f%%", loss, 100*float64(correct)/float64(max(seen, 1)))
		}
		start := time.Now()
		es, err := tr.RunEpoch(ctx, func(s finetune.StepStats) {
			seen += s.Images
			correct += s.Correct
			loss += (s.Loss - loss) * float64(s.Images) / float64(seen)
			bar.Add(s.Images)
			// Every --grad-every steps; the last step's report comes after the loop.
			if g := s.Epoch*tr.StepsPerEpoch() + s.Step + 1; f.grad.every > 0 && g%f.grad.every == 0 && g < tr.StepsPerEpoch()*cfg.Epochs {
				gradAt()
			}
		})
		bar.Done()
		if gradErr != nil {
			return gradErr
		}
		if err != nil {
			if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
				release := holdInterrupt(ctx)
				serr := tr.SaveCheckpoint(out)
				release()
				if serr != nil {
					return fmt.Errorf("%w; writing the checkpoint failed: %v", err, serr)
				}
				e, s := tr.Position()
				return fmt.Errorf("interrupted at epoch %d step %d: checkpoint written to %s (continue with --resume): %w", e+1, s, out, err)
			}
			return err
		}
		dt := time.Since(start).Seconds()
		rec := finetuneEpoch{Epoch: es.Epoch + 1, TrainLoss: es.Loss, TrainAcc: es.Accuracy(),
			ImagesPerS: float64(es.Images) / dt, TrainSeconds: dt, TestImages: evalLimit}
		release := holdInterrupt(ctx)
		err = tr.SaveCheckpoint(out)
		release()
		if err != nil {
			return err
		}
		if rec.TestAcc, err = finetune.Evaluate(ctx, tr.Model(), test, pre, cfg.T, f.batch, evalLimit); err != nil {
			return err
		}
		res.Epochs = append(res.Epochs, rec)
		logf("epoch %d/%d: train loss %.4f acc %.2f%% | test acc %.2f%% (T=%d, %d images) | %.1f images/s, %s | saved %s\n",
			rec.Epoch, cfg.Epochs, rec.TrainLoss, 100*rec.TrainAcc, 100*rec.TestAcc, cfg.T, evalLimit,
			rec.ImagesPerS, time.Duration(dt*float64(time.Second)).Round(time.Second), out)
	}
	gradAt()
	if gradErr != nil {
		return gradErr
	}
	if f.grad.plot != "" && len(res.GradReports) > 0 {
		if err := plotGradSeries(f.grad.plot, res.GradReports, tr.StepsPerEpoch()); err != nil {
			return err
		}
		logf("gradient plot written to %s\n", f.grad.plot)
	}
	if f.json {
		return json.NewEncoder(stdout).Encode(res)
	}
	return nil
}

// config turns the flags into a finetune.Config.
func (f *finetuneFlags) config() (finetune.Config, error) {
	cfg := finetune.Config{T: f.timesteps, Batch: f.batch, Epochs: f.epochs, Subset: f.subset, LR: f.lr,
		Momentum: f.momentum, WeightDecay: f.wd, RateReg: float32(f.rateReg), MemReg: float32(f.memReg), Seed: f.seed,
		FreezeThresholds: f.freezeTheta, Data: f.data + ":" + f.split,
		WidthAnneal: float32(f.grad.anneal), AutoWidth: f.grad.autoWidth}
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
	case f.subset < 0 || f.evalLimit < 0:
		return cfg, &usageError{"--subset and --eval-limit must not be negative"}
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
