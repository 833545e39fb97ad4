package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"text/tabwriter"

	"github.com/ann2snn/ann2snn/importer"
)

// layerInfo is one row of "ann2snn inspect".
type layerInfo struct {
	Node   string `json:"node"`
	Op     string `json:"op"`
	Shape  []int  `json:"shape"`
	Params int    `json:"params"`
	MACs   int64  `json:"macs"`
}

func runInspect(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("inspect", "model.onnx|model.snn", stderr)
	asJSON := fs.Bool("json", false, "print one JSON object instead of a table")
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return &usageError{"want exactly one model.onnx or model.snn argument"}
	}
	if isSNNFile(pos[0]) {
		return inspectSNN(pos[0], *asJSON, stdout)
	}
	g, err := importer.Load(pos[0])
	if err != nil {
		return badInput(err)
	}
	rows, err := describe(g)
	if err != nil {
		return badInput(fmt.Errorf("%s: %w", pos[0], err))
	}
	var params int
	var macs int64
	for _, r := range rows {
		params += r.Params
		macs += r.MACs
	}
	if *asJSON {
		return json.NewEncoder(stdout).Encode(map[string]any{
			"model": pos[0], "opset": g.Opset, "producer": g.Producer, "inputs": g.Inputs,
			"layers": rows, "params": params, "macs": macs,
		})
	}
	fmt.Fprintf(stdout, "model %s  opset %d  producer %s\n", pos[0], g.Opset, g.Producer)
	for _, in := range g.Inputs {
		fmt.Fprintf(stdout, "input %s %v\n", in.Name, in.Shape)
	}
	tw := tabwriter.NewWriter(stdout, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "node\top\toutput shape\tparams\tMACs\t")
	for _, r := range rows {
		fmt.Fprintf(tw, "%s\t%s\t%v\t%d\t%d\t\n", r.Node, r.Op, r.Shape, r.Params, r.MACs)
	}
	fmt.Fprintf(tw, "total\t\t\t%d\t%d\t\n", params, macs)
	return tw.Flush()
}

// describe returns one row per node for a batch of one image: the output
// shape, the number of constant parameters the node reads and its
// multiply-accumulates.
func describe(g *importer.Graph) ([]layerInfo, error) {
	if len(g.Inputs) != 1 {
		return nil, fmt.Errorf("graph has %d runtime inputs, want 1", len(g.Inputs))
	}
	in := append([]int(nil), g.Inputs[0].Shape...)
	if len(in) > 0 {
		in[0] = 1
	}
	shapes, err := g.InferShapes(in)
	if err != nil {
		return nil, err
	}
	rows := make([]layerInfo, 0, len(g.Nodes))
	for _, n := range g.Nodes {
		r := layerInfo{Node: n.Name, Op: n.Op}
		if len(n.Outputs) > 0 {
			r.Shape = shapes[n.Outputs[0]]
		}
		for _, name := range n.Inputs {
			if c, ok := g.Consts[name]; ok {
				r.Params += c.Len()
			}
		}
		r.MACs = macs(n, shapes)
		rows = append(rows, r)
	}
	return rows, nil
}

// macs counts the multiply-accumulates of one node: for Conv, each output
// element sums C/group·KH·KW products; for Gemm and MatMul, each output
// element sums K products. Other ops count zero.
func macs(n *importer.Node, shapes map[string][]int) int64 {
	if len(n.Outputs) == 0 || len(n.Inputs) < 2 {
		return 0
	}
	out := int64(importer.NumElements(shapes[n.Outputs[0]]))
	w := shapes[n.Inputs[1]]
	switch n.Op {
	case "Conv":
		if len(w) < 2 {
			return 0
		}
		per := int64(1)
		for _, d := range w[1:] {
			per *= int64(d)
		}
		return out * per
	case "Gemm", "MatMul":
		a := shapes[n.Inputs[0]]
		if len(a) == 0 {
			return 0
		}
		k := a[len(a)-1]
		if n.Op == "Gemm" && n.Attrs.Int("transA", 0) != 0 {
			k = a[0]
		}
		return out * int64(k)
	}
	return 0
}
