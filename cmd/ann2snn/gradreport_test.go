package main

import (
	"bytes"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ann2snn/ann2snn/finetune"
)

// TestFinetuneGradReport runs --grad-report and --grad-every on LeNet
// converted for T = 1 and checks the JSON shape (3 IF layers × T probes
// per report, one report per surrogate or per measuring point), the PNG
// and the usage errors of the new flags.
func TestFinetuneGradReport(t *testing.T) {
	dir := t.TempDir()
	snn := lenetT1(t, dir)
	base := []string{"finetune", snn, "--data", "mnist", "--timesteps", "1", "--batch", "32", "--limit", "96"}
	args := func(extra ...string) []string { return append(append([]string(nil), base...), extra...) }

	code, stdout, stderr := runCLI(t, args("--grad-report", "--grad-surrogates", "atan:2,rect:1", "--grad-directions", "3", "--json")...)
	if code != exitOK {
		t.Fatalf("--grad-report: exit %d: %s", code, stderr)
	}
	var rep struct{ Reports []finetune.GradReport }
	if err := json.Unmarshal([]byte(stdout), &rep); err != nil {
		t.Fatalf("--grad-report --json: %v\n%s", err, stdout)
	}
	if len(rep.Reports) != 2 || rep.Reports[0].Surrogate != "atan:2" || rep.Reports[1].Surrogate != "rect:1" {
		t.Fatalf("reports %+v, want atan:2 and rect:1", rep.Reports)
	}
	for _, r := range rep.Reports {
		if len(r.Probes) != 3 || r.Directions != 3 || r.Images != 32 {
			t.Fatalf("report %+v: want 3 probes (3 IF layers × T = 1), 3 directions, 32 images", r)
		}
		for _, p := range r.Probes {
			if p.What != "input" || p.Step != 0 || math.Abs(p.Cosine) > 1+1e-9 || p.Norm < 0 {
				t.Fatalf("probe %+v", p)
			}
		}
	}

	png := filepath.Join(dir, "grad.png")
	out := filepath.Join(dir, "tuned.snn")
	code, stdout, stderr = runCLI(t, args("--epochs", "1", "--subset", "64", "--eval-limit", "16", "--grad-every", "1",
		"--grad-directions", "2", "--grad-plot", png, "--width-anneal", "3", "--mem-reg", "0.1", "--json", "-o", out)...)
	if code != exitOK {
		t.Fatalf("--grad-every: exit %d: %s", code, stderr)
	}
	var res finetuneResult
	if err := json.Unmarshal([]byte(stdout), &res); err != nil {
		t.Fatalf("finetune --json: %v\n%s", err, stdout)
	}
	// Two steps: reports before the first, after the first and at the end.
	if len(res.GradReports) != 3 {
		t.Fatalf("%d gradient reports, want 3", len(res.GradReports))
	}
	// The annealed width: atan:2 stretched 3× (sharpness 2/3) at the start,
	// atan:2 at the end.
	if got, want := res.GradReports[0].Surrogate, "atan:"+ftoa32(2.0/3); got != want {
		t.Errorf("first report's surrogate %s, want %s", got, want)
	}
	if got := res.GradReports[2].Surrogate; got != "atan:2" {
		t.Errorf("last report's surrogate %s, want atan:2", got)
	}
	if b, err := os.ReadFile(png); err != nil || !bytes.HasPrefix(b, []byte("\x89PNG")) {
		t.Errorf("--grad-plot: no PNG (%v)", err)
	}

	for _, tc := range []struct {
		extra []string
		msg   string
	}{
		{[]string{"--grad-plot", png}, "--grad-plot needs --grad-every"},
		{[]string{"--grad-surrogates", "atan"}, "--grad-surrogates needs --grad-report"},
		{[]string{"--grad-report", "--grad-surrogates", "relu"}, "unknown surrogate"},
		{[]string{"--grad-directions", "0"}, "--grad-directions"},
		{[]string{"--width-anneal", "-1"}, "--width-anneal"},
		{[]string{"--width-anneal", "0.5"}, "--width-anneal 0.5"},
		{[]string{"--mem-reg", "NaN"}, "--mem-reg"},
	} {
		code, _, stderr := runCLI(t, args(tc.extra...)...)
		if code != exitUsage || !strings.Contains(stderr, tc.msg) {
			t.Errorf("%v: exit %d, stderr %q; want usage error mentioning %q", tc.extra, code, stderr, tc.msg)
		}
	}
}

// ftoa32 formats v as a float32, as finetune's surrogate names do.
func ftoa32(v float64) string {
	b, _ := json.Marshal(float32(v))
	return string(b)
}
