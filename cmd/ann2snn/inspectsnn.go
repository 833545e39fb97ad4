package main

import (
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"text/tabwriter"

	"github.com/ann2snn/ann2snn/snnrt"
)

// isSNNFile reports whether path names a .snn model: by its extension, or
// by the magic bytes that begin every .snn file.
func isSNNFile(path string) bool {
	if strings.EqualFold(filepath.Ext(path), ".snn") {
		return true
	}
	f, err := os.Open(path)
	if err != nil {
		return false
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil || !st.Mode().IsRegular() {
		return false
	}
	b := make([]byte, len(snnrt.Magic))
	n, _ := io.ReadFull(f, b)
	return string(b[:n]) == snnrt.Magic
}

// snnLayerRow is one row of "ann2snn inspect model.snn".
type snnLayerRow struct {
	Index   int    `json:"index"`
	Name    string `json:"name"`
	Kind    string `json:"kind"`
	Inputs  []int  `json:"inputs"`
	Shape   []int  `json:"shape"` // per-image output [C, H, W]
	Params  int    `json:"params"`
	Neurons int    `json:"neurons,omitempty"` // IF layers
	// Theta is min, median and max of the thresholds θ of an IF layer.
	Theta     *[3]float32 `json:"theta,omitempty"`
	MaxSpikes int         `json:"max_spikes,omitempty"`
	Signed    bool        `json:"signed,omitempty"`
	Reset     string      `json:"reset,omitempty"`
}

// describeSNN returns one row per layer of m.
func describeSNN(m *snnrt.Model) []snnLayerRow {
	rows := make([]snnLayerRow, 0, len(m.Layers))
	for i, l := range m.Layers {
		r := snnLayerRow{Index: i, Name: l.Name, Kind: l.Kind.String(), Inputs: l.Inputs,
			Shape: []int{l.Shape.C, l.Shape.H, l.Shape.W}, Params: len(l.W) + len(l.B)}
		if l.Kind == snnrt.KindIF {
			r.Neurons = l.Shape.Len()
			r.Params = len(l.IF.Theta) + len(l.IF.V0)
			r.Theta = thetaRange(l.IF.Theta)
			r.MaxSpikes = max(1, l.IF.MaxSpikes)
			r.Signed = l.IF.Signed
			r.Reset = l.IF.Reset.String()
		}
		rows = append(rows, r)
	}
	return rows
}

// thetaRange returns the minimum, median (the lower middle value for an
// even count) and maximum of theta; nil when it is empty.
func thetaRange(theta []float32) *[3]float32 {
	if len(theta) == 0 {
		return nil
	}
	s := slices.Clone(theta)
	slices.Sort(s)
	return &[3]float32{s[0], s[(len(s)-1)/2], s[len(s)-1]}
}

// inspectSNN prints the layers, neurons, thresholds and metadata
// (preprocessing, provenance, conversion settings) of the .snn model at
// path.
func inspectSNN(path string, asJSON bool, w io.Writer) error {
	m, err := snnrt.Load(path)
	if err != nil {
		return badInput(err)
	}
	rows := describeSNN(m)
	var params, neurons int
	for _, r := range rows {
		params += r.Params
		neurons += r.Neurons
	}
	if asJSON {
		return json.NewEncoder(w).Encode(map[string]any{
			"model": path, "input": []int{m.Input.C, m.Input.H, m.Input.W}, "output": m.Output,
			"layers": rows, "params": params, "neurons": neurons,
			"timesteps": m.Metadata["convert.t"], "metadata": m.Metadata,
		})
	}
	fmt.Fprintf(w, "model %s (SNN)  input %s  output layer %d\n", path, m.Input, m.Output)
	if t := m.Metadata["convert.t"]; t != "" {
		fmt.Fprintf(w, "tuned for T=%s\n", t)
	} else {
		fmt.Fprintln(w, "tuned for T: not recorded")
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "#\tlayer\tkind\tinputs\toutput shape\tparams\tneurons\tθ min\tθ median\tθ max\tneuron\t")
	for _, r := range rows {
		th, neuron, nn := "\t\t", "", ""
		if r.Theta != nil {
			th = fmt.Sprintf("%.4g\t%.4g\t%.4g", r.Theta[0], r.Theta[1], r.Theta[2])
			sign := "unsigned"
			if r.Signed {
				sign = "signed"
			}
			neuron = fmt.Sprintf("%s, ≤%d spikes/step, reset %s", sign, r.MaxSpikes, r.Reset)
			nn = fmt.Sprint(r.Neurons)
		}
		fmt.Fprintf(tw, "%d\t%s\t%s\t%v\t%v\t%d\t%s\t%s\t%s\t\n", r.Index, r.Name, r.Kind, r.Inputs, r.Shape, r.Params, nn, th, neuron)
	}
	fmt.Fprintf(tw, "total\t\t\t\t\t%d\t%d\t\t\t\t\t\n", params, neurons)
	if err := tw.Flush(); err != nil {
		return err
	}
	if len(m.Metadata) == 0 {
		fmt.Fprintln(w, "metadata: none")
		return nil
	}
	fmt.Fprintln(w, "metadata (preprocessing, provenance, conversion settings):")
	for _, k := range slices.Sorted(maps.Keys(m.Metadata)) {
		if strings.HasPrefix(k, "source.value.") {
			continue // one per layer: the ONNX value each layer replaces (in --json)
		}
		fmt.Fprintf(w, "  %-24s %s\n", k, m.Metadata[k])
	}
	return nil
}
