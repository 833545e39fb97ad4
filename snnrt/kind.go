package snnrt

import "fmt"

// Kind is the type of a primitive layer. The set is closed: every ANN that
// the converter accepts lowers to these kinds, and every simulator
// implements exactly these.
type Kind uint8

// The primitive layer kinds.
const (
	KindConv          Kind = iota + 1 // 2-D convolution (synaptic)
	KindLinear                        // fully connected y = W·x + b (synaptic)
	KindAvgPool                       // average pooling (linear routing)
	KindGlobalAvgPool                 // mean over H×W per channel (linear routing)
	KindMaxPool                       // spiking max pooling, see MaxPoolMode
	KindAdd                           // elementwise sum of ≥ 2 same-shape inputs (linear routing)
	KindConcat                        // concatenation along the channel axis (linear routing)
	KindFlatten                       // CHW → (C·H·W)×1×1, no data movement
	KindIF                            // integrate-and-fire neurons
)

// kindInfo holds the properties of a kind as data, so that simulators,
// the SOP counter and the file format share one definition.
type kindInfo struct {
	name string
	// minIn, maxIn bound the number of inputs; maxIn == 0 means unbounded.
	minIn, maxIn int
	// synaptic layers multiply their input by weights: a spike arriving
	// at one input position costs one synaptic operation per weight it
	// meets.
	synaptic bool
	// routing layers are linear and weight-free (pooling, add, concat,
	// flatten): an event-driven runtime forwards a spike through them to
	// the synaptic layers behind, so SOPs are counted there.
	routing bool
	// stateful layers keep state across time steps (membranes, counters).
	stateful bool
}

var kindTable = [...]kindInfo{
	KindConv:          {name: "conv", minIn: 1, maxIn: 1, synaptic: true},
	KindLinear:        {name: "linear", minIn: 1, maxIn: 1, synaptic: true},
	KindAvgPool:       {name: "avgpool", minIn: 1, maxIn: 1, routing: true},
	KindGlobalAvgPool: {name: "globalavgpool", minIn: 1, maxIn: 1, routing: true},
	KindMaxPool:       {name: "maxpool", minIn: 1, maxIn: 1, stateful: true},
	KindAdd:           {name: "add", minIn: 2, routing: true},
	KindConcat:        {name: "concat", minIn: 1, routing: true},
	KindFlatten:       {name: "flatten", minIn: 1, maxIn: 1, routing: true},
	KindIF:            {name: "if", minIn: 1, maxIn: 1, stateful: true},
}

func (k Kind) info() (kindInfo, bool) {
	if k == 0 || int(k) >= len(kindTable) {
		return kindInfo{}, false
	}
	return kindTable[k], true
}

// String returns the kind's name as used in the .snn file ("conv", "if",
// ...), or "Kind(n)" for an unknown kind.
func (k Kind) String() string {
	if i, ok := k.info(); ok {
		return i.name
	}
	return fmt.Sprintf("Kind(%d)", int(k))
}

// ParseKind returns the kind named s (as returned by Kind.String).
func ParseKind(s string) (Kind, error) {
	for k := range kindTable {
		if k != 0 && kindTable[k].name == s {
			return Kind(k), nil
		}
	}
	return 0, fmt.Errorf("snnrt: unknown layer kind %q", s)
}

func (i kindInfo) arity() string {
	switch {
	case i.maxIn == 0:
		return fmt.Sprintf("at least %d", i.minIn)
	case i.minIn == i.maxIn:
		return fmt.Sprint(i.minIn)
	}
	return fmt.Sprintf("%d..%d", i.minIn, i.maxIn)
}
