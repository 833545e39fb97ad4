package snnrt

import (
	"context"
	"errors"
	"math"
	"math/rand/v2"
	"testing"
)

// TestSweepMatchesEvaluate checks the exact threshold sweep against
// applying each swept policy image by image.
func TestSweepMatchesEvaluate(t *testing.T) {
	const n, T, C = 40, 9, 4
	r := rand.New(rand.NewPCG(7, 19))
	tr := NewExitTrace(T, C)
	for i := range n {
		acc := make([]float32, C)
		for range T {
			for c := range acc {
				acc[c] += float32(r.IntN(5)) * 0.5 // ties happen
			}
			tr.acc = append(tr.acc, acc...)
		}
		tr.labels = append(tr.labels, i%C)
	}
	for _, fam := range ExitFamilies() {
		outs := tr.Sweep(fam)
		if len(outs) < 2 {
			t.Fatalf("%v: only %d sweep points", fam, len(outs))
		}
		for _, o := range outs {
			if e := tr.Evaluate(o.Policy); e != o {
				t.Fatalf("%v: sweep says %+v; evaluate %+v", o.Policy, o, e)
			}
		}
	}
}

// linearNet is a one-layer SNN whose output is the same every step:
// image (1, 0.5, 0) gives (2.5, −0.75), image (0, 0.25, 2) gives (1, 1.5),
// so accumulated outputs are t times those and the margins (a₁−a₂)/t are
// 3.25 and 0.5 at every t.
func linearNet(t *testing.T) (*Model, []float32) {
	m := &Model{Input: Shape{C: 1, H: 1, W: 3}}
	m.MustAppend(Layer{Name: "fc", Kind: KindLinear, Inputs: []int{InputIndex},
		W: []float32{1, 2, 0, 0, -1, 1}, B: []float32{0.5, -0.25}})
	if err := m.Validate(); err != nil {
		t.Fatal(err)
	}
	return m, []float32{1, 0.5, 0, 0, 0.25, 2}
}

// TestCalibrateExitLinear checks CalibrateExit on linearNet, whose answers
// never change: every policy keeps them, so the chosen one is the first
// that stops both images after step 1: margin 0.5 (the smaller margin),
// and the best confidence threshold is image 1's softmax confidence
// 1/(1+e^−0.5). Arg-max stability k stops every image at k ≥ 2.
func TestCalibrateExitLinear(t *testing.T) {
	m, x := linearNet(t)
	src := &sliceSource{x: x, labels: []int{0, 0}, per: 3} // image 1 is wrong at every T
	conf := 1 / (1 + math.Exp(-0.5))
	for _, crit := range []ExitCriterion{ExitAgreement, ExitAccuracy} {
		rep, err := CalibrateExit(context.Background(), m, src, CalibrateExitConfig{MaxT: 6, Reference: 4, Criterion: crit})
		if err != nil {
			t.Fatal(err)
		}
		if rep.Images != 2 || rep.ReferenceCorrect != 1 || rep.ReferenceAccuracy != 0.5 || rep.MaxT != 6 || rep.Reference != 4 {
			t.Fatalf("%v: %+v", crit, rep)
		}
		agree := 0.0
		if crit == ExitAgreement {
			agree = 1
		}
		// As recorded: ParseExitPolicy("margin:0.5") leaves MinT, Stable 0.
		want := ExitOutcome{Policy: ExitPolicy{Signal: ExitMargin, Threshold: 0.5}, Correct: 1, Accuracy: 0.5, MeanT: 1, Agreement: agree}
		if rep.Chosen != want {
			t.Errorf("%v: chose %+v, want %+v", crit, rep.Chosen, want)
		}
		if len(rep.Best) != 3 {
			t.Fatalf("%v: best per family %+v", crit, rep.Best)
		}
		c := rep.Best[1]
		if c.Policy.Signal != ExitConfidence || math.Abs(c.Policy.Threshold-conf) > 1e-6 || c.MeanT != 1 || c.Accuracy != 0.5 {
			t.Errorf("%v: best confidence %+v, want threshold %v at mean T 1", crit, c, conf)
		}
		if s := rep.Best[2]; s.Policy != (ExitPolicy{Stable: 2}) || s.MeanT != 2 || s.Accuracy != 0.5 || s.Agreement != agree {
			t.Errorf("%v: best stability %+v, want stable=2 at mean T 2", crit, s)
		}
	}
}

// TestCalibrateExitMeetsTarget checks, on random nets, that the chosen
// policy meets the target by the definition of an exit policy
// (ExitPolicy.Steps on the reference Run) and that its reported accuracy
// and mean T are that definition's.
func TestCalibrateExitMeetsTarget(t *testing.T) {
	const n, maxT, refT = 24, 8, 6
	for _, tc := range simNets(t)[:6] {
		src := testImages(tc.m, n, 13)
		for i := range src.labels {
			src.labels[i] = max(src.labels[i], 0)
		}
		ref, err := Run(tc.m, src.x, n, Config{T: maxT})
		if err != nil {
			t.Fatal(err)
		}
		refPred := ref.Predictions(refT)
		refCorrect := countCorrect(refPred, src.labels)
		for _, tol := range []float64{0, 10, 30} {
			for _, crit := range []ExitCriterion{ExitAgreement, ExitAccuracy} {
				rep, err := CalibrateExit(context.Background(), tc.m, src, CalibrateExitConfig{MaxT: maxT, Reference: refT, Tolerance: tol, Criterion: crit, Batch: 5})
				var no *NoExitPolicyError
				if errors.As(err, &no) {
					// Then not even running every image to max T (the
					// candidate "stable=8") meets the target.
					atMax := ref.Predictions(maxT)
					got, base := countCorrect(atMax, src.labels), refCorrect
					if crit == ExitAgreement {
						got, base = countCorrect(atMax, refPred), n
					}
					if no.MaxTAgreement != float64(countCorrect(atMax, refPred))/n || float64(got) >= float64(base)-tol/100*n-1e-9 {
						t.Errorf("%s tol %v %v: %v, but fixed T=%d gets %d right, target %v", tc.name, tol, crit, err, maxT, got, float64(base)-tol/100*n)
					}
					continue
				}
				if err != nil {
					t.Fatalf("%s: %v", tc.name, err)
				}
				p := rep.Chosen.Policy
				steps := p.Steps(ref)
				var correct, agree, sum int64
				for i, s := range steps {
					pr := ref.Predictions(s)[i]
					if pr == src.labels[i] {
						correct++
					}
					if pr == refPred[i] {
						agree++
					}
					sum += int64(s)
				}
				if rep.ReferenceCorrect != int(refCorrect) {
					t.Errorf("%s: reference correct %d, Run %d", tc.name, rep.ReferenceCorrect, refCorrect)
				}
				if rep.Chosen.Accuracy != float64(correct)/n || rep.Chosen.MeanT != float64(sum)/n {
					t.Errorf("%s tol %v %v: chosen %+v; by definition accuracy %v at mean T %v", tc.name, tol, crit, rep.Chosen, float64(correct)/n, float64(sum)/n)
				}
				got, base := correct, refCorrect
				if crit == ExitAgreement {
					got, base = agree, n
					if rep.Chosen.Agreement != float64(agree)/n {
						t.Errorf("%s: agreement %v, by definition %v", tc.name, rep.Chosen.Agreement, float64(agree)/n)
					}
				}
				if float64(got) < float64(base)-tol/100*n-1e-9 {
					t.Errorf("%s tol %v %v: chosen %v gets %d right, target %v", tc.name, tol, crit, p, got, float64(base)-tol/100*n)
				}
			}
		}
	}
}

func TestCalibrateExitErrors(t *testing.T) {
	m, x := linearNet(t)
	src := &sliceSource{x: x, labels: []int{0, 1}, per: 3}
	for _, tc := range []struct {
		name string
		src  Batches
		cfg  CalibrateExitConfig
	}{
		{"reference above max T", src, CalibrateExitConfig{MaxT: 4, Reference: 5}},
		{"negative tolerance", src, CalibrateExitConfig{Tolerance: -1}},
		{"infinite tolerance", src, CalibrateExitConfig{Tolerance: math.Inf(1)}},
		{"criterion", src, CalibrateExitConfig{Criterion: 7}},
		{"max T", src, CalibrateExitConfig{MaxT: -1}},
		{"unlabeled", &sliceSource{x: x, labels: []int{0, -1}, per: 3}, CalibrateExitConfig{MaxT: 4}},
		{"no images", &sliceSource{per: 3}, CalibrateExitConfig{MaxT: 4}},
	} {
		_, err := CalibrateExit(context.Background(), m, tc.src, tc.cfg)
		var se *SetupError
		if !errors.As(err, &se) {
			t.Errorf("%s: %v, want a SetupError", tc.name, err)
		}
	}
	if c, err := ParseExitCriterion("accuracy"); err != nil || c != ExitAccuracy || c.String() != "accuracy" {
		t.Errorf("ParseExitCriterion(accuracy) = %v, %v", c, err)
	}
	if _, err := ParseExitCriterion("margin"); err == nil {
		t.Error("ParseExitCriterion(margin): no error")
	}
}
