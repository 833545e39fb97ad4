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
//   - PATH.state, the optimizer state: the magic "A2SFTST1", a uint32
//     little-endian header length, a JSON header (stateHeader), the
//     optimizer's float32 vectors (little-endian, in header order) and a
//     CRC-32C of everything before it. It is written to a temporary file
//     and renamed, so it is never seen half-written.
//
// Resume checks that both files name the same position and that the
// settings that fix the data order and the schedule are unchanged.

// Metadata keys of a fine-tuned model.
const (
	metaEpoch = "finetune.epoch"
	metaStep  = "finetune.step"
)

// StateSuffix is appended to a checkpoint's model path to name its
// optimizer-state file.
const StateSuffix = ".state"

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
}

func (tr *Trainer) settings() runSettings {
	return runSettings{T: tr.cfg.T, Batch: tr.net.opt.n, Epochs: tr.cfg.epochs(), Seed: tr.cfg.Seed,
		Subset: tr.cfg.Subset, Images: tr.train.Len(), LR: tr.cfg.lr(), Data: tr.cfg.Data,
		WidthAnneal: tr.cfg.WidthAnneal, AutoWidth: tr.cfg.AutoWidth}
}

// SaveCheckpoint writes the model to path and the optimizer state to
// path+StateSuffix, each atomically.
func (tr *Trainer) SaveCheckpoint(path string) error {
	if err := tr.Model().Save(path); err != nil {
		return err
	}
	h := stateHeader{Version: 1, Epoch: tr.epoch, Step: tr.step, Optimizer: tr.cfg.Optimizer.String(),
		Updates: tr.opt.steps, Settings: tr.settings()}
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
	tr.opt.steps = h.Updates
	tr.epoch, tr.step = h.Epoch, h.Step
	return tr, nil
}
