package nir

import (
	"encoding/json"
	"os/exec"
	"path/filepath"
	"reflect"
	"testing"
)

const python = "/usr/bin/python3"

// readScript opens a NIR file the way nir.read does (h5py, version, the
// "node" group of type NIRGraph, nodes/<name>/type, edges as byte pairs)
// and prints its structure: version, node types, edges, parameter shapes
// and dtypes, metadata.
const readScript = `
import sys, json, h5py
with h5py.File(sys.argv[1], "r") as f:
    g = f["node"]
    assert g["type"][()] == b"NIRGraph"
    out = {"version": f["version"][()].decode("utf8"), "nodes": {}, "edges": [],
           "metadata": {k: v[()].decode("utf8") for k, v in g["metadata"].items()} if "metadata" in g else {}}
    for name, node in g["nodes"].items():
        params = {k: [node[k].dtype.str, list(node[k].shape)] for k in node.keys() if k != "type"}
        out["nodes"][name] = {"type": node["type"][()].decode("utf8"), "params": params}
    for a, b in g["edges"][()]:
        out["edges"].append([a.decode("utf8"), b.decode("utf8")])
json.dump(out, sys.stdout, sort_keys=True)
`

type fileView struct {
	Version string
	Nodes   map[string]struct {
		Type   string
		Params map[string][]any
	}
	Edges    [][2]string
	Metadata map[string]string
}

// TestWriteReadH5py writes the residual graph and reads it back with h5py.
func TestWriteReadH5py(t *testing.T) {
	if err := exec.Command(python, "-c", "import h5py").Run(); err != nil {
		t.Skipf("%s cannot import h5py (Debian package python3-h5py); skipping the read-back check", python)
	}
	m := residual()
	m.Metadata = map[string]string{"ann2snn.dataset": "cifar10", "ann2snn.mean": "0.4914,0.4822,0.4465"}
	g, _, err := FromModel(m, Options{})
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "model.nir")
	if err := g.Save(path); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(python, "-c", readScript, path).CombinedOutput()
	if err != nil {
		t.Fatalf("h5py: %v\n%s", err, out)
	}
	var v fileView
	if err := json.Unmarshal(out, &v); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	m.Metadata[MetaDT] = "1"
	if v.Version != Version || !reflect.DeepEqual(v.Metadata, m.Metadata) {
		t.Errorf("version %q metadata %v", v.Version, v.Metadata)
	}
	var edges [][2]string
	for _, e := range g.Edges {
		edges = append(edges, [2]string{e.Src, e.Dst})
	}
	if !reflect.DeepEqual(v.Edges, edges) {
		t.Errorf("edges %v\nwant  %v", v.Edges, edges)
	}
	if len(v.Nodes) != len(g.Nodes) {
		t.Errorf("%d nodes, want %d", len(v.Nodes), len(g.Nodes))
	}
	for _, n := range g.Nodes {
		got, ok := v.Nodes[n.Name]
		if !ok || got.Type != n.Type || len(got.Params) != len(n.Params) {
			t.Errorf("node %s: read %+v, want type %s with %d params", n.Name, got, n.Type, len(n.Params))
			continue
		}
		for _, p := range n.Params {
			dtype := "<f4"
			if p.I64 != nil {
				dtype = "<i8"
			}
			shape := []any{}
			for _, d := range p.Shape {
				shape = append(shape, float64(d))
			}
			if want := []any{dtype, shape}; !reflect.DeepEqual(got.Params[p.Name], want) {
				t.Errorf("node %s param %s: read %v, want %v", n.Name, p.Name, got.Params[p.Name], want)
			}
		}
	}
	// Spot-check the shapes NIR's readers rely on.
	want := map[string][2]any{
		"conv0/weight": {"<f4", []any{2.0, 2.0, 3.0, 3.0}},
		"if4/r":        {"<f4", []any{2.0, 3.0, 3.0}},
		"input/shape":  {"<i8", []any{3.0}},
		"conv2/groups": {"<i8", []any{}},
	}
	for k, w := range want {
		node, param := filepath.Split(k)
		got := v.Nodes[filepath.Clean(node)].Params[param]
		if !reflect.DeepEqual(got, []any{w[0], w[1]}) {
			t.Errorf("%s: %v, want %v", k, got, w)
		}
	}
}
