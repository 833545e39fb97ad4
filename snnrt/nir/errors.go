package nir

import (
	"fmt"
	"strings"

	"github.com/ann2snn/ann2snn/snnrt"
)

// UnsupportedError reports a layer that NIR cannot express (or that this
// package does not translate): the model is valid, the target format is
// too narrow.
type UnsupportedError struct {
	Layer   int // index in Model.Layers, or -1 for the graph as a whole
	Name    string
	Kind    snnrt.Kind
	Feature string
}

// Error names the layer and the feature.
func (e *UnsupportedError) Error() string {
	if e.Layer < 0 {
		return "nir: unsupported: " + e.Feature
	}
	return fmt.Sprintf("nir: layer %d %q (%v): not expressible in NIR: %s", e.Layer, e.Name, e.Kind, e.Feature)
}

// LossKind says how the exported graph's semantics differ from the
// model's for one IF layer.
type LossKind uint8

const (
	// LossReset: the layer resets by subtraction; NIR's IF resets to
	// v_reset, so the graph resets to 0 and discards the residue.
	LossReset LossKind = iota + 1
	// LossV0: the layer starts from a non-zero membrane potential V0;
	// NIR has no initial state, so the graph starts from 0.
	LossV0
	// LossResetZero: the layer resets to zero, but NIR before 1.0.6
	// (Options.NIRVersion) has only IF with reset by subtraction.
	LossResetZero
	// LossBurst: the layer fires up to MaxSpikes > 1 spikes per step
	// (Options.Burst); NIR's IF fires one. sinabs's IF fires ⌊v/θ⌋ with no
	// cap and keeps v ≥ −θ (docs/nir.md measures what that costs).
	LossBurst
)

// String describes the loss.
func (k LossKind) String() string {
	switch k {
	case LossReset:
		return "reset by subtraction exported as reset to 0"
	case LossV0:
		return "initial potential V0 dropped (NIR starts from 0)"
	case LossResetZero:
		return "reset to zero exported as reset by subtraction (the IF of NIR < 1.0.6)"
	case LossBurst:
		return "burst neuron exported as IF (NIR: one spike per step; sinabs: ⌊v/θ⌋ spikes, no cap, v ≥ −θ)"
	}
	return fmt.Sprintf("LossKind(%d)", int(k))
}

// Loss is one difference between a model and its NIR graph.
type Loss struct {
	Layer int // index of the IF layer in Model.Layers
	Name  string
	Kind  LossKind
}

// String formats the loss as `layer i "name": what`.
func (l Loss) String() string { return fmt.Sprintf("layer %d %q: %v", l.Layer, l.Name, l.Kind) }

// LossError is returned by FromModel with Options.Strict when the graph
// would not compute what the model computes.
type LossError struct{ Losses []Loss }

// Error lists the losses.
func (e *LossError) Error() string {
	s := make([]string, len(e.Losses))
	for i, l := range e.Losses {
		s[i] = l.String()
	}
	return "nir: the NIR graph would change the model's semantics: " + strings.Join(s, "; ")
}
