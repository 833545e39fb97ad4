package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestParseShard(t *testing.T) {
	tests := []struct {
		in   string
		want shard
		bad  string // substring of the error, "" for none
	}{
		{"0/1", shard{0, 1}, ""},
		{"3/4", shard{3, 4}, ""},
		{" 2 / 8 ", shard{2, 8}, ""},
		{"4/4", shard{}, "0..3"},
		{"-1/4", shard{}, "0..3"},
		{"0/0", shard{}, "at least 1"},
		{"1", shard{}, "K/N"},
		{"a/b", shard{}, "K/N"},
		{"", shard{}, "K/N"},
	}
	for _, tc := range tests {
		got, err := parseShard(tc.in)
		switch {
		case tc.bad == "" && (err != nil || got != tc.want):
			t.Errorf("parseShard(%q) = %v, %v; want %v", tc.in, got, err, tc.want)
		case tc.bad != "" && (err == nil || !strings.Contains(err.Error(), tc.bad)):
			t.Errorf("parseShard(%q) error %v, want one mentioning %q", tc.in, err, tc.bad)
		}
	}
}

func TestShardBounds(t *testing.T) {
	tests := []struct {
		n, shards int
		want      [][2]int // [lo, hi) of each shard, by hand
	}{
		{10, 1, [][2]int{{0, 10}}},
		{10, 4, [][2]int{{0, 2}, {2, 5}, {5, 7}, {7, 10}}},
		{300, 4, [][2]int{{0, 75}, {75, 150}, {150, 225}, {225, 300}}},
		{2, 3, [][2]int{{0, 0}, {0, 1}, {1, 2}}},
		{0, 2, [][2]int{{0, 0}, {0, 0}}},
	}
	for _, tc := range tests {
		for k, w := range tc.want {
			lo, hi := shard{k, tc.shards}.bounds(tc.n)
			if lo != w[0] || hi != w[1] {
				t.Errorf("shard %d/%d of %d: [%d,%d), want [%d,%d)", k, tc.shards, tc.n, lo, hi, w[0], w[1])
			}
		}
	}
}

// withoutSpeed returns an eval output (table or JSON) without the
// measured speeds, the only numbers a merge cannot reproduce.
func withoutSpeed(t *testing.T, out string, isJSON bool) string {
	t.Helper()
	if isJSON {
		var m map[string]any
		if err := json.Unmarshal([]byte(out), &m); err != nil {
			t.Fatalf("%v: %s", err, out)
		}
		for _, k := range []string{"images_per_s", "ann_images_per_s", "elapsed_s"} {
			if _, ok := m[k]; ok {
				m[k] = "timed"
			}
		}
		b, err := json.Marshal(m)
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	var keep []string
	for _, l := range strings.Split(out, "\n") {
		if !strings.Contains(l, "speed") {
			keep = append(keep, l)
		}
	}
	return strings.Join(keep, "\n")
}

// TestShardedEvalMatches evaluates a data set whole and as 4 shards (whose
// boundaries do not fall on batch boundaries), merges the parts (given out
// of order) and checks that the table and the JSON equal the unsharded
// ones except for the speeds, and that the shards' logits files, end to
// end, are the unsharded one.
func TestShardedEvalMatches(t *testing.T) {
	if testing.Short() {
		t.Skip("evaluates 300 images twice, with an ANN and with an SNN")
	}
	dir := t.TempDir()
	// Convert a copy of the ONNX model, so that removing it later leaves
	// the SNN without its recorded source (then eval compares against the
	// SNN's analog network).
	src := filepath.Join(dir, "src.onnx")
	raw, err := os.ReadFile(lenet)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(src, raw, 0o644); err != nil {
		t.Fatal(err)
	}
	snn := filepath.Join(dir, "lenet.snn")
	if code, _, stderr := runCLI(t, "convert", src, "--data", "mnist", "--calib", "64", "--correct-images", "32", "--timesteps", "4", "-o", snn); code != exitOK {
		t.Fatalf("convert: %s", stderr)
	}
	const shards = 4
	for _, tc := range []struct {
		name  string
		model string
		extra []string
		ref   string // in the JSON: the ANN reference the run must use
	}{
		{"ann", lenet, nil, `"kind":"ann"`},
		{"snn", snn, []string{"--timesteps", "1,3,8"}, `"ann_reference":"` + src},
		{"snn analog", snn, []string{"--timesteps", "2,5"}, `"ann_reference":"analog network`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			common := append([]string{"eval", tc.model, "--data", "mnist", "--limit", "300", "--batch", "32"}, tc.extra...)
			if tc.name == "snn analog" {
				if err := os.Remove(src); err != nil {
					t.Fatal(err)
				}
			}
			sub := t.TempDir()
			whole := filepath.Join(sub, "whole.bin")
			code, table, stderr := runCLI(t, append(common, "--logits", whole)...)
			if code != exitOK {
				t.Fatalf("eval: %s", stderr)
			}
			code, js, stderr := runCLI(t, append(common, "--json")...)
			if code != exitOK {
				t.Fatalf("eval --json: %s", stderr)
			}
			var parts []string
			var logits []byte
			for k := range shards {
				lf := filepath.Join(sub, fmt.Sprintf("logits%d.bin", k))
				code, part, stderr := runCLI(t, append(common, "--json", "--shard", fmt.Sprintf("%d/%d", k, shards), "--logits", lf)...)
				if code != exitOK {
					t.Fatalf("eval --shard %d/%d: %s", k, shards, stderr)
				}
				pf := filepath.Join(sub, fmt.Sprintf("part%d.json", k))
				if err := os.WriteFile(pf, []byte(part), 0o644); err != nil {
					t.Fatal(err)
				}
				parts = append([]string{pf}, parts...) // reversed: merge must not care
				b, err := os.ReadFile(lf)
				if err != nil {
					t.Fatal(err)
				}
				logits = append(logits, b...)
			}
			code, mtable, stderr := runCLI(t, append([]string{"merge"}, parts...)...)
			if code != exitOK {
				t.Fatalf("merge: %s", stderr)
			}
			code, mjs, stderr := runCLI(t, append([]string{"merge", "--json"}, parts...)...)
			if code != exitOK {
				t.Fatalf("merge --json: %s", stderr)
			}
			if a, b := withoutSpeed(t, table, false), withoutSpeed(t, mtable, false); a != b {
				t.Errorf("merged table differs:\n%s\nunsharded:\n%s", b, a)
			}
			if a, b := withoutSpeed(t, js, true), withoutSpeed(t, mjs, true); a != b {
				t.Errorf("merged JSON differs:\n%s\nunsharded:\n%s", b, a)
			}
			if !strings.Contains(js, `"images":300`) || !strings.Contains(js, tc.ref) {
				t.Errorf("unsharded JSON does not count 300 images or lacks %s: %s", tc.ref, js)
			}
			want, err := os.ReadFile(whole)
			if err != nil {
				t.Fatal(err)
			}
			if len(want) == 0 || !bytes.Equal(logits, want) {
				t.Errorf("the shards' logits (%d bytes) are not the unsharded logits (%d bytes)", len(logits), len(want))
			}
		})
	}
}

// handParts returns the parts of an SNN run of 10 images in shards of 3,
// 3 and 4 images (bounds 0, 10/3 = 3, 20/3 = 6, 10) with hand-made counts.
func handParts() []evalPart {
	run := evalRun{Kind: "snn", Model: "m.snn", ModelSHA256: "aa", Data: "mnist", Split: "test", Limit: 10, Images: 10,
		LabelsSHA256: "bb", Preprocess: "scale=1", Batch: 4, Flags: map[string]string{"scale": "1"}, Shards: 3, Timesteps: []int{2, 4},
		SNN: &snnInfo{ANNMACs: 100, Encoding: "direct", ANNReference: "analog", Layers: []snnLayerInfo{{"if1", "IF", 5}}}}
	mk := func(k, first, n int, correct2, correct4, spikes int64) evalPart {
		return evalPart{Format: partFormat, Run: run, Shard: k, First: first, SNN: &snnSums{Images: n,
			Correct: []int64{correct2, correct4}, SOPs: []int64{10 * int64(n), 20 * int64(n)}, MACs: []int64{int64(n), 2 * int64(n)},
			Spikes: []int64{spikes}, ANNCorrect: int64(n), BusyS: 1}}
	}
	return []evalPart{mk(0, 0, 3, 1, 3, 7), mk(1, 3, 3, 2, 3, 11), mk(2, 6, 4, 2, 3, 2)}
}

func TestMergeHandCounts(t *testing.T) {
	p := handParts()
	whole, err := mergeParts(p, []string{"a", "b", "c"})
	if err != nil {
		t.Fatal(err)
	}
	res := snnResult(&whole.Run, whole.SNN)
	// 10 images; correct at T=2: 1+2+2 = 5, at T=4: 3+3+3 = 9; spikes
	// 7+11+2 = 20 over 5 neurons, 10 images, 4 steps: 0.1; SOPs at T=4:
	// 20 per image; ANN all correct.
	if res.Images != 10 || res.Timesteps[0].Accuracy != 0.5 || res.Timesteps[1].Accuracy != 0.9 ||
		res.Layers[0].FiringRate != 0.1 || res.SOPsPerImage != 20 || res.ANNAccuracy != 1 || res.ImagesPerS != 10.0/3 {
		t.Errorf("merged result %+v", res)
	}
}

func TestMergeRefuses(t *testing.T) {
	tests := []struct {
		name  string
		edit  func(p []evalPart) []evalPart
		names []string
		msg   string
	}{
		{"missing", func(p []evalPart) []evalPart { return []evalPart{p[2], p[0]} }, []string{"c", "a"}, "missing shard(s) 1 of 0..2"},
		{"duplicate", func(p []evalPart) []evalPart { return append(p, p[1]) }, []string{"a", "b", "c", "b2"}, "shard 1/3 given twice: b and b2"},
		{"other timesteps", func(p []evalPart) []evalPart { p[1].Run.Timesteps = []int{2, 8}; return p }, nil, "timesteps is [2,4] in one and [2,8] in the other"},
		{"other model", func(p []evalPart) []evalPart { p[2].Run.ModelSHA256 = "cc"; return p }, nil, "model_sha256"},
		{"other shard count", func(p []evalPart) []evalPart { p[2].Run.Shards = 2; return p }, nil, "shard 2/2 out of range"},
		{"other limit", func(p []evalPart) []evalPart { p[0].Run.Limit = 20; return p }, nil, "limit is 20 in one and 10"},
		{"other labels", func(p []evalPart) []evalPart { p[2].Run.LabelsSHA256 = "x"; return p }, nil, "labels_sha256"},
		{"other preprocessing", func(p []evalPart) []evalPart { p[2].Run.Preprocess = "scale=2"; return p }, nil, "preprocess"},
		{"other flag", func(p []evalPart) []evalPart {
			p[1].Run.Flags = map[string]string{"scale": "1", "mean": "0.5"}
			return p
		}, nil,
			`flags.mean is absent in one and "0.5" in the other`},
		{"other reference", func(p []evalPart) []evalPart {
			info := *p[1].Run.SNN
			info.ANNReference = "lenet.onnx"
			p[1].Run.SNN = &info
			return p
		}, nil, "snn.ann_reference is \"analog\" in one and \"lenet.onnx\" in the other"},
		{"wrong range", func(p []evalPart) []evalPart { p[1].First = 4; return p }, nil, "want 3..5"},
		{"wrong format", func(p []evalPart) []evalPart { p[0].Format = "x"; return p }, nil, "not a part"},
		{"no sums", func(p []evalPart) []evalPart { p[0].SNN = nil; return p }, nil, "without its sums"},
		{"short sums", func(p []evalPart) []evalPart { p[0].SNN.Correct = p[0].SNN.Correct[:1]; return p }, nil, "do not fit"},
		{"none", func(p []evalPart) []evalPart { return nil }, []string{}, "at least one"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := tc.edit(handParts())
			names := tc.names
			if names == nil {
				names = []string{"a", "b", "c"}
			}
			_, err := mergeParts(p, names)
			if err == nil || !strings.Contains(err.Error(), tc.msg) {
				t.Errorf("error %v, want one mentioning %q", err, tc.msg)
			}
		})
	}
}

// TestMergeCLI checks merge's handling of files: a part is read back from
// its JSON, an unsharded eval's JSON is refused, and so is a missing file.
func TestMergeCLI(t *testing.T) {
	dir := t.TempDir()
	var names []string
	for i, p := range handParts() {
		var b bytes.Buffer
		if err := writePart(&b, &p); err != nil {
			t.Fatal(err)
		}
		name := filepath.Join(dir, fmt.Sprintf("p%d.json", i))
		if err := os.WriteFile(name, b.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
		names = append(names, name)
	}
	notPart := filepath.Join(dir, "eval.json")
	if err := os.WriteFile(notPart, []byte(`{"model":"m.onnx","kind":"ann","accuracy":0.5}`), 0o644); err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	if err := merge(context.Background(), &mergeConfig{parts: names, json: true}, &out); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), `"accuracy":0.9`) {
		t.Errorf("merged JSON %s lacks the T=4 accuracy 0.9", out.String())
	}
	plots := filepath.Join(dir, "plots")
	if err := merge(context.Background(), &mergeConfig{parts: names, plotDir: plots}, &out); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{"accuracy_vs_t.png", "firing_rate.png"} {
		if fi, err := os.Stat(filepath.Join(plots, f)); err != nil || fi.Size() == 0 {
			t.Errorf("merge --plot wrote no %s: %v", f, err)
		}
	}
	tests := []struct {
		name string
		args []string
		code int
		msg  string
	}{
		{"no parts", []string{"merge"}, exitUsage, "want the part files"},
		{"unsharded eval", []string{"merge", names[0], notPart}, exitBadInput, "not a part"},
		{"missing file", []string{"merge", filepath.Join(dir, "absent.json")}, exitBadInput, "absent.json"},
		{"missing shard", []string{"merge", names[0], names[2]}, exitBadInput, "missing shard(s) 1"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			code, _, stderr := runCLI(t, tc.args...)
			if code != tc.code || !strings.Contains(stderr, tc.msg) {
				t.Errorf("exit %d, stderr %q; want exit %d mentioning %q", code, stderr, tc.code, tc.msg)
			}
		})
	}
}

func TestEvalShardFlag(t *testing.T) {
	tests := []struct {
		name string
		args []string
		msg  string
	}{
		{"bad", []string{"--shard", "4/4"}, "0..3"},
		{"report", []string{"--shard", "0/2", "--report"}, "--report cannot be sharded"},
		{"plot", []string{"--shard", "0/2", "--plot", t.TempDir()}, "merge --plot"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			code, _, stderr := runCLI(t, append([]string{"eval", lenet, "--data", "mnist"}, tc.args...)...)
			if code != exitUsage || !strings.Contains(stderr, tc.msg) {
				t.Errorf("exit %d, stderr %q; want exit %d mentioning %q", code, stderr, exitUsage, tc.msg)
			}
		})
	}
}
