package finetune

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"hash/crc32"
	"math"
	"os"
	"strconv"

	"github.com/ann2snn/ann2snn/dataset"
	"github.com/ann2snn/ann2snn/internal/atomicfile"
	"github.com/ann2snn/ann2snn/snnrt"
)

// A checkpoint is two files written after each epoch (and on
// cancellation):
//
//   - PATH, a normal .snn model (snnrt.Model.Save, atomic) with the
//     current parameters; its metadata records finetune.epoch and
//     finetune.step, the position of the next step;
//   - PATH.best, with Config.Val only: the best parameters so far, a
//     normal .snn whose finetune.epoch and finetune.step give the
//     position they were validated at (written before PATH.state);
//   - PATH.state, the optimizer state: the magic "A2SFTST1", a uint32
//     little-endian header length, a JSON header (stateHeader), the
//     optimizer's float32 vectors (little-endian, in header order) and a
//     CRC-32C of everything before it. It is written to a temporary file
//     and renamed, so it is never seen half-written.
//
// Resume checks that the files name the same positions and that the
// settings that fix the data order and the schedule are unchanged. The
// state header also holds the validation curve and the index of its best
// point (Config.Val), so a resumed run keeps the same model as an
// uninterrupted one.

// Metadata keys of a fine-tuned model.
const (
	metaEpoch = "finetune.epoch"
	metaStep  = "finetune.step"
)

// StateSuffix is appended to a checkpoint's model path to name its
// optimizer-state file.
const StateSuffix = ".state"

// BestSuffix is appended to a checkpoint's model path to name the file of
// the best parameters so far (Config.Val).
const BestSuffix = ".best"

const stateMagic = "A2SFTST1"

// stateHeader is the JSON header of a .state file.
type stateHeader struct {
	Version   int         `json:"version"`
	Epoch     int         `json:"epoch"`
	Step      int         `json:"step"`
	Optimizer string      `json:"optimizer"`
	Updates   int64       `json:"updates"`
	Settings  runSettings `json:"settings"`
	Slots     []slotInfo  `json:"slots"`
	// Val is the validation curve and Best the index of its best point
	// (Config.Val; absent before the first validation).
	Val  []ValPoint `json:"val,omitempty"`
	Best *int       `json:"best,omitempty"`
}

type slotInfo struct {
	Param string `json:"param"`
	Len   int    `json:"len"`
}

// runSettings are the settings a resumed run must share with the run that
// wrote the checkpoint.
type runSettings struct {
	T      int    `json:"t"`
	Batch  int    `json:"batch"`
	Epochs int    `json:"epochs"`
	Seed   uint64 `json:"seed"`
	Subset int    `json:"subset"`
	Images int    `json:"images"`
	// LR is the initial learning rate (Config.LR, its default resolved)
	// and Data the training data (Config.Data): resuming with another
	// would continue a different run.
	LR   float64 `json:"lr"`
	Data string  `json:"data"`
	// WidthAnneal and AutoWidth fix the surrogate widths of every step.
	WidthAnneal float32 `json:"width_anneal,omitempty"`
	AutoWidth   bool    `json:"auto_width,omitempty"`
	// Val and ValEvery fix the training images and the kept model.
	Val      int `json:"val,omitempty"`
	ValEvery int `json:"val_every,omitempty"`
	// Warmup changes the learning rate of the first steps.
	Warmup int `json:"warmup,omitempty"`
}

func (tr *Trainer) settings() runSettings {
	return runSettings{T: tr.cfg.T, Batch: tr.net.opt.n, Epochs: tr.cfg.epochs(), Seed: tr.cfg.Seed,
		Subset: tr.cfg.Subset, Images: tr.train.Len(), LR: tr.cfg.lr(), Data: tr.cfg.Data,
		WidthAnneal: tr.cfg.WidthAnneal, AutoWidth: tr.cfg.AutoWidth, Val: tr.cfg.Val, ValEvery: tr.cfg.ValEvery, Warmup: tr.cfg.Warmup}
}

// SaveCheckpoint writes the model to path, the best parameters so far to
// path+BestSuffix (Config.Val, once validated) and the optimizer state to
// path+StateSuffix, each atomically.
func (tr *Trainer) SaveCheckpoint(path string) error {
	if err := tr.Model().Save(path); err != nil {
		return err
	}
	h := stateHeader{Version: 1, Epoch: tr.epoch, Step: tr.step, Optimizer: tr.cfg.Optimizer.String(),
		Updates: tr.opt.steps, Settings: tr.settings()}
	if tr.vs.best != nil {
		if err := tr.vs.best.Save(path + BestSuffix); err != nil {
			return err
		}
		at := tr.vs.at
		h.Val, h.Best = tr.vs.curve, &at
	}
	ns := tr.cfg.Optimizer.slots()
	for i, s := range tr.opt.slots {
		h.Slots = append(h.Slots, slotInfo{Param: tr.net.params[i/ns].name(), Len: len(s)})
	}
	hdr, err := json.Marshal(h)
	if err != nil {
		return err
	}
	var buf bytes.Buffer
	buf.WriteString(stateMagic)
	binary.Write(&buf, binary.LittleEndian, uint32(len(hdr)))
	buf.Write(hdr)
	for _, s := range tr.opt.slots {
		binary.Write(&buf, binary.LittleEndian, s)
	}
	binary.Write(&buf, binary.LittleEndian, crc32.Checksum(buf.Bytes(), crc32.MakeTable(crc32.Castagnoli)))
	return writeAtomic(path+StateSuffix, buf.Bytes())
}

// writeAtomic writes data to path atomically (see internal/atomicfile).
func writeAtomic(path string, data []byte) error {
	if err := atomicfile.WriteFile(path, data); err != nil {
		return fmt.Errorf("finetune: %w", err)
	}
	return nil
}

// CheckpointError reports a checkpoint that cannot be resumed: a damaged
// state file, or one that does not belong to the model or the settings.
type CheckpointError struct {
	Path string
	Msg  string
}

func (e *CheckpointError) Error() string { return "finetune: checkpoint " + e.Path + ": " + e.Msg }

// Resume loads the checkpoint at path (the model and path+StateSuffix)
// and returns a Trainer positioned where it stopped. train, pre and cfg
// must be those of the run that wrote it (T, batch, epochs, seed, subset
// and the training set size are checked).
func Resume(path string, train *dataset.Dataset, pre dataset.Preprocess, cfg Config) (*Trainer, error) {
	m, err := snnrt.Load(path)
	if err != nil {
		return nil, err
	}
	tr, err := New(m, train, pre, cfg)
	if err != nil {
		return nil, err
	}
	raw, err := os.ReadFile(path + StateSuffix)
	if err != nil {
		return nil, fmt.Errorf("finetune: %w", err)
	}
	bad := func(format string, a ...any) error {
		return &CheckpointError{Path: path + StateSuffix, Msg: fmt.Sprintf(format, a...)}
	}
	if len(raw) < len(stateMagic)+8 || string(raw[:len(stateMagic)]) != stateMagic {
		return nil, bad("not a fine-tuning state file")
	}
	body, sum := raw[:len(raw)-4], binary.LittleEndian.Uint32(raw[len(raw)-4:])
	if crc32.Checksum(body, crc32.MakeTable(crc32.Castagnoli)) != sum {
		return nil, bad("checksum mismatch (file damaged)")
	}
	hl := int(binary.LittleEndian.Uint32(body[len(stateMagic):]))
	rest := body[len(stateMagic)+4:]
	if hl > len(rest) {
		return nil, bad("header length %d exceeds the file", hl)
	}
	var h stateHeader
	if err := json.Unmarshal(rest[:hl], &h); err != nil {
		return nil, bad("header: %v", err)
	}
	data := rest[hl:]
	if h.Version != 1 {
		return nil, bad("version %d, want 1", h.Version)
	}
	if h.Optimizer != cfg.Optimizer.String() {
		return nil, bad("written by optimizer %s, resuming with %s", h.Optimizer, cfg.Optimizer)
	}
	if want := tr.settings(); h.Settings != want {
		return nil, bad("written with settings %+v, resuming with %+v", h.Settings, want)
	}
	if e, s := m.Metadata[metaEpoch], m.Metadata[metaStep]; e != strconv.Itoa(h.Epoch) || s != strconv.Itoa(h.Step) {
		return nil, bad("state is at epoch %d step %d, the model at epoch %q step %q", h.Epoch, h.Step, e, s)
	}
	if len(h.Slots) != len(tr.opt.slots) {
		return nil, bad("%d state vectors, want %d", len(h.Slots), len(tr.opt.slots))
	}
	ns := cfg.Optimizer.slots()
	off := 0
	for i, si := range h.Slots {
		s := tr.opt.slots[i]
		if si.Param != tr.net.params[i/ns].name() || si.Len != len(s) {
			return nil, bad("state vector %d is %s[%d], want %s[%d]", i, si.Param, si.Len, tr.net.params[i/ns].name(), len(s))
		}
		if off+4*len(s) > len(data) {
			return nil, bad("truncated")
		}
		for j := range s {
			s[j] = math.Float32frombits(binary.LittleEndian.Uint32(data[off+4*j:]))
		}
		off += 4 * len(s)
	}
	if off != len(data) {
		return nil, bad("%d trailing bytes", len(data)-off)
	}
	if cfg.AutoWidth {
		if tr.widths, err = parseWidths(m.Metadata[metaWidths]); err != nil {
			return nil, bad("model: %v", err)
		}
	}
	if err := tr.restoreVal(path, h); err != nil {
		return nil, err
	}
	tr.opt.steps = h.Updates
	tr.epoch, tr.step = h.Epoch, h.Step
	return tr, nil
}

// restoreVal restores the validation curve and the best parameters of a
// checkpoint whose state header is h.
func (tr *Trainer) restoreVal(path string, h stateHeader) error {
	if h.Best == nil {
		if len(h.Val) > 0 {
			return &CheckpointError{Path: path + StateSuffix, Msg: "validation curve without a best point"}
		}
		return nil
	}
	at := *h.Best
	if at < 0 || at >= len(h.Val) {
		return &CheckpointError{Path: path + StateSuffix, Msg: fmt.Sprintf("best point %d of a validation curve of %d", at, len(h.Val))}
	}
	best, err := snnrt.Load(path + BestSuffix)
	if err != nil {
		return &CheckpointError{Path: path + BestSuffix, Msg: err.Error()}
	}
	p := h.Val[at]
	if e, s := best.Metadata[metaEpoch], best.Metadata[metaStep]; e != strconv.Itoa(p.Epoch) || s != strconv.Itoa(p.Step) {
		return &CheckpointError{Path: path + BestSuffix, Msg: fmt.Sprintf("the best point is at epoch %d step %d, the model at epoch %q step %q", p.Epoch, p.Step, e, s)}
	}
	if err := sameShape(best, tr.net.m); err != nil {
		return &CheckpointError{Path: path + BestSuffix, Msg: err.Error()}
	}
	tr.vs = valState{curve: h.Val, best: best, at: at}
	return nil
}

// sameShape reports whether a and b have the same layers and parameter
// sizes.
func sameShape(a, b *snnrt.Model) error {
	if len(a.Layers) != len(b.Layers) {
		return fmt.Errorf("%d layers, want %d", len(a.Layers), len(b.Layers))
	}
	for i := range a.Layers {
		la, lb := &a.Layers[i], &b.Layers[i]
		if la.Kind != lb.Kind || len(la.W) != len(lb.W) || len(la.B) != len(lb.B) || len(la.IF.Theta) != len(lb.IF.Theta) {
			return fmt.Errorf("layer %d (%s) differs from the model's", i, la.Name)
		}
	}
	return nil
}
