package main

// Sharded evaluation: "eval --shard K/N --json" evaluates a contiguous part
// of the images and prints an evalPart, the exact sums of that part and the
// identity of the whole run; "merge" checks that its parts are the N shards
// of one run, adds them up and prints what the unsharded eval prints.
//
// Exactness: every reported number except the speeds is a function of
// integer counts (correct images per T, SOPs and MACs per T, spikes per
// layer, images), and an unsharded eval computes them through the same
// functions (annResult, snnResult) from the same sums, so the merged table
// and JSON equal the unsharded ones bit for bit. Integer sums do not depend
// on the order of addition; per image, a prediction does not depend on the
// batch it ran in (ann and snnrt compute every image on its own), so the
// shard boundaries cannot change a count. The speeds (images_per_s,
// ann_images_per_s) are the images over the sum of the shards' busy
// seconds, the throughput of one worker, and are naturally not
// reproducible.

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"reflect"
	"sort"
	"strconv"
	"strings"

	"github.com/ann2snn/ann2snn/dataset"
)

// partFormat names the JSON layout of evalPart; merge refuses others.
const partFormat = "ann2snn-eval-part/1"

// shard is part K of N of the evaluated images, K = 0..N-1 (the numbering
// of Kubernetes' JOB_COMPLETION_INDEX and of a Slurm array 0-(N-1)).
type shard struct{ K, N int }

// parseShard parses "K/N" with 0 <= K < N.
func parseShard(s string) (shard, error) {
	ks, ns, ok := strings.Cut(s, "/")
	k, kerr := strconv.Atoi(strings.TrimSpace(ks))
	n, nerr := strconv.Atoi(strings.TrimSpace(ns))
	switch {
	case !ok || kerr != nil || nerr != nil:
		return shard{}, fmt.Errorf("%q: want K/N, e.g. 0/4", s)
	case n < 1:
		return shard{}, fmt.Errorf("%q: N must be at least 1", s)
	case k < 0 || k >= n:
		return shard{}, fmt.Errorf("%q: K must be in 0..%d (shards are numbered from 0)", s, n-1)
	}
	return shard{k, n}, nil
}

// bounds returns the images [lo, hi) of shard s of n images:
// lo = K·n/N, hi = (K+1)·n/N (integer division), so that the N shards
// cover 0..n-1 in order and differ in size by at most one.
func (s shard) bounds(n int) (lo, hi int) {
	return int(int64(s.K) * int64(n) / int64(s.N)), int(int64(s.K+1) * int64(n) / int64(s.N))
}

// of returns the images of shard s of ds and the index of its first one.
func (s shard) of(ds *dataset.Dataset) (*dataset.Dataset, int, error) {
	if s.N == 1 {
		return ds, 0, nil
	}
	lo, hi := s.bounds(ds.Len())
	idx := make([]int, hi-lo)
	for i := range idx {
		idx[i] = lo + i
	}
	part, err := ds.Subset(idx)
	if err != nil {
		return nil, 0, fmt.Errorf("shard %d/%d: %w", s.K, s.N, err)
	}
	return part, lo, nil
}

// evalRun identifies an evaluation: parts merge only if their evalRun is
// equal field for field.
type evalRun struct {
	Kind         string `json:"kind"` // "ann" or "snn"
	Model        string `json:"model"`
	ModelSHA256  string `json:"model_sha256"`
	Data         string `json:"data"`
	Split        string `json:"split"`
	Limit        int    `json:"limit"`
	Images       int    `json:"images"`        // in the evaluated set (after --limit), all shards together
	LabelsSHA256 string `json:"labels_sha256"` // of the labels of those images, as int64 little-endian
	Preprocess   string `json:"preprocess"`
	// DataInfo is the data and the preprocessing applied (see dataInfo).
	DataInfo *dataInfo `json:"data_info,omitempty"`
	Batch    int       `json:"batch"`
	// Flags holds the value of every eval flag that can change the
	// numbers (given or default), so that a data or model flag added
	// later is part of the identity too.
	Flags  map[string]string `json:"flags"`
	Shards int               `json:"shards"`
	// SNN evaluation only.
	Timesteps []int    `json:"timesteps,omitempty"`
	AsNIR     bool     `json:"as_nir,omitempty"`
	ANNSHA256 string   `json:"ann_sha256,omitempty"` // of the reference ONNX; "" for the analog network
	SNN       *snnInfo `json:"snn,omitempty"`
}

// newEvalRun returns the identity of evaluating model at path (kind "ann"
// or "snn") on ds, the whole evaluated set, with pre and f.
func newEvalRun(kind, path string, f *evalFlags, ds *dataset.Dataset, pre dataset.Preprocess) (evalRun, error) {
	sum, err := fileSHA256(path)
	if err != nil {
		return evalRun{}, badInput(err)
	}
	info := f.applied
	h := sha256.New()
	var b [8]byte
	for i := range ds.Len() {
		binary.LittleEndian.PutUint64(b[:], uint64(int64(ds.Label(i))))
		h.Write(b[:])
	}
	return evalRun{Kind: kind, Model: path, ModelSHA256: sum, Data: f.data, Split: f.split, Limit: f.limit,
		Images: ds.Len(), LabelsSHA256: hex.EncodeToString(h.Sum(nil)),
		Preprocess: fmt.Sprintf("scale=%v mean=%v std=%v", pre.Scale, pre.Mean, pre.Std),
		DataInfo:   &info, Batch: f.batch, Flags: f.settings, Shards: f.shard.N}, nil
}

// fileSHA256 returns the hex SHA-256 of the file at path.
func fileSHA256(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", fmt.Errorf("%s: %w", path, err)
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// evalPart is what "eval --shard K/N --json" prints: the sums of shard K
// and the identity of the run. Exactly one of ANN and SNN is set, as
// Run.Kind says.
type evalPart struct {
	Format string   `json:"format"` // partFormat
	Run    evalRun  `json:"run"`
	Shard  int      `json:"shard"` // K
	First  int      `json:"first"` // index of the shard's first image in the evaluated set
	ANN    *annSums `json:"ann,omitempty"`
	SNN    *snnSums `json:"snn,omitempty"`
}

func writePart(w io.Writer, p *evalPart) error { return json.NewEncoder(w).Encode(p) }

// printShard says which images a sharded table covers (nothing for the
// whole set).
func printShard(w io.Writer, s shard, first, n, total int) {
	switch {
	case s.N == 1:
	case n == 0:
		fmt.Fprintf(w, "shard     %d/%d: no images (of %d)\n", s.K, s.N, total)
	default:
		fmt.Fprintf(w, "shard     %d/%d: images %d..%d of %d (--json prints a part for ann2snn merge)\n", s.K, s.N, first, first+n-1, total)
	}
}

// images returns the image count of p's sums.
func (p *evalPart) images() int {
	if p.ANN != nil {
		return p.ANN.Images
	}
	return p.SNN.Images
}

// check reports whether p is well formed: the format, the sums its kind
// needs and nothing else, a shard number, and sums of the right lengths.
func (p *evalPart) check() error {
	if p.Format != partFormat {
		return fmt.Errorf("not a part printed by \"ann2snn eval --shard K/N --json\" (format %q, want %q)", p.Format, partFormat)
	}
	switch {
	case p.Run.Kind == "ann" && p.ANN != nil && p.SNN == nil:
	case p.Run.Kind == "snn" && p.SNN != nil && p.ANN == nil && p.Run.SNN != nil:
		s, info := p.SNN, p.Run.SNN
		nt := len(p.Run.Timesteps)
		if nt == 0 || len(s.Correct) != nt || len(s.SOPs) != nt || len(s.MACs) != nt || len(s.Spikes) != len(info.Layers) {
			return fmt.Errorf("SNN sums for %d time steps and %d IF layers do not fit the run's %d and %d", len(s.Correct), len(s.Spikes), nt, len(info.Layers))
		}
	default:
		return fmt.Errorf("kind %q without its sums", p.Run.Kind)
	}
	if p.Run.Shards < 1 || p.Shard < 0 || p.Shard >= p.Run.Shards {
		return fmt.Errorf("shard %d/%d out of range", p.Shard, p.Run.Shards)
	}
	lo, hi := shard{p.Shard, p.Run.Shards}.bounds(p.Run.Images)
	if p.First != lo || p.images() != hi-lo {
		return fmt.Errorf("shard %d/%d of %d images holds images %d..%d, want %d..%d", p.Shard, p.Run.Shards, p.Run.Images, p.First, p.First+p.images()-1, lo, hi-1)
	}
	return nil
}

// runDiff returns where a and b differ, the first differing field by its
// JSON path ("snn.ann_reference", "flags.limit") with both values, or ""
// if they are equal.
func runDiff(a, b *evalRun) string {
	if reflect.DeepEqual(a, b) {
		return ""
	}
	var va, vb any
	ja, _ := json.Marshal(a)
	jb, _ := json.Marshal(b)
	json.Unmarshal(ja, &va)
	json.Unmarshal(jb, &vb)
	if d := jsonDiff("", va, vb); d != "" {
		return d
	}
	return "they differ"
}

// jsonDiff returns the first difference between the decoded JSON values a
// and b at path, descending into objects in key order.
func jsonDiff(path string, a, b any) string {
	ma, aok := a.(map[string]any)
	mb, bok := b.(map[string]any)
	if aok && bok {
		keys := make([]string, 0, len(ma)+len(mb))
		for k := range ma {
			keys = append(keys, k)
		}
		for k := range mb {
			if _, ok := ma[k]; !ok {
				keys = append(keys, k)
			}
		}
		sort.Strings(keys)
		for _, k := range keys {
			p := k
			if path != "" {
				p = path + "." + k
			}
			if d := jsonDiff(p, ma[k], mb[k]); d != "" {
				return d
			}
		}
		return ""
	}
	if reflect.DeepEqual(a, b) {
		return ""
	}
	return fmt.Sprintf("%s is %s in one and %s in the other", path, jsonText(a), jsonText(b))
}

// jsonText returns v as JSON, or "absent" for a missing value.
func jsonText(v any) string {
	if v == nil {
		return "absent"
	}
	b, _ := json.Marshal(v)
	return string(b)
}

// mergeParts checks that parts (read from the files names, same order) are
// the shards 0..N-1 of one run, each exactly once, and returns their sum:
// a part of shard 0 of 1 holding the counts of the whole run. The sums are
// added in shard order.
func mergeParts(parts []evalPart, names []string) (*evalPart, error) {
	if len(parts) == 0 {
		return nil, &usageError{"want at least one part"}
	}
	for i := range parts {
		if err := parts[i].check(); err != nil {
			return nil, badInput(fmt.Errorf("%s: %w", names[i], err))
		}
		if d := runDiff(&parts[0].Run, &parts[i].Run); d != "" {
			return nil, badInput(fmt.Errorf("%s and %s are parts of different runs: %s", names[0], names[i], d))
		}
	}
	n := parts[0].Run.Shards
	byShard := make([]int, n) // index into parts + 1; 0 = missing
	for i := range parts {
		k := parts[i].Shard
		if j := byShard[k] - 1; j >= 0 {
			return nil, badInput(fmt.Errorf("shard %d/%d given twice: %s and %s", k, n, names[j], names[i]))
		}
		byShard[k] = i + 1
	}
	var missing []string
	for k, i := range byShard {
		if i == 0 {
			missing = append(missing, strconv.Itoa(k))
		}
	}
	if len(missing) > 0 {
		return nil, badInput(fmt.Errorf("missing shard(s) %s of 0..%d (have %d of %d parts)", strings.Join(missing, ", "), n-1, len(parts), n))
	}
	whole := &evalPart{Format: partFormat, Run: parts[0].Run}
	whole.Run.Shards = 1
	if whole.Run.Kind == "ann" {
		whole.ANN = &annSums{}
	} else {
		whole.SNN = newSNNSums(len(whole.Run.Timesteps), len(whole.Run.SNN.Layers))
	}
	for _, i := range byShard {
		p := &parts[i-1]
		if whole.ANN != nil {
			whole.ANN.add(p.ANN)
		} else {
			whole.SNN.add(p.SNN)
		}
	}
	return whole, nil
}

// mergeConfig is the parsed command line of merge.
type mergeConfig struct {
	parts   []string // part files
	json    bool
	plotDir string
}

func runMerge(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var cfg mergeConfig
	fs := newFlagSet("merge", "part.json...", stderr)
	fs.BoolVar(&cfg.json, "json", false, "print one JSON object on stdout instead of a table (as eval --json)")
	fs.StringVar(&cfg.plotDir, "plot", "", "SNN: write accuracy_vs_t.png and firing_rate.png into this directory (as eval --plot)")
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(pos) == 0 {
		return &usageError{"want the part files printed by \"ann2snn eval --shard K/N --json\""}
	}
	cfg.parts = pos
	return merge(ctx, &cfg, stdout)
}

// merge reads the parts of cfg, merges them and prints the result of the
// whole run exactly as eval prints it.
func merge(ctx context.Context, cfg *mergeConfig, stdout io.Writer) error {
	parts := make([]evalPart, len(cfg.parts))
	for i, name := range cfg.parts {
		if err := ctx.Err(); err != nil {
			return err
		}
		if err := readPart(name, &parts[i]); err != nil {
			return err
		}
	}
	whole, err := mergeParts(parts, cfg.parts)
	if err != nil {
		return err
	}
	if whole.ANN != nil {
		if cfg.plotDir != "" {
			return &usageError{"--plot is for SNN evaluations; these parts are of an ANN"}
		}
		res := annResult(&whole.Run, whole.ANN)
		if cfg.json {
			return json.NewEncoder(stdout).Encode(res)
		}
		printANNEval(stdout, &res)
		return nil
	}
	res := snnResult(&whole.Run, whole.SNN)
	if cfg.plotDir != "" {
		if err := writeSNNPlots(cfg.plotDir, &res); err != nil {
			return err
		}
	}
	if cfg.json {
		return json.NewEncoder(stdout).Encode(res)
	}
	printSNNEval(stdout, &res)
	return nil
}

// readPart decodes the part file name into p.
func readPart(name string, p *evalPart) error {
	raw, err := os.ReadFile(name)
	if err != nil {
		return badInput(err)
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(p); err != nil {
		var syn *json.SyntaxError
		if errors.As(err, &syn) || strings.Contains(err.Error(), "unknown field") {
			return badInput(fmt.Errorf("%s: not a part printed by \"ann2snn eval --shard K/N --json\": %w", name, err))
		}
		return badInput(fmt.Errorf("%s: %w", name, err))
	}
	if dec.More() {
		return badInput(fmt.Errorf("%s: more than one JSON value (one part per file)", name))
	}
	return nil
}
