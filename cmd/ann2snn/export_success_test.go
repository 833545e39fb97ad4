package main

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ann2snn/ann2snn/snnrt"
	"github.com/ann2snn/ann2snn/snnrt/nir"
)

// TestExportSuccess converts the bundled LeNet (average pooling) with the
// flags that make it exportable and exports it to NIR: with --target nir
// (neurons NIR runs exactly) --strict succeeds with no loss; with classic
// neurons (--max-spikes 1 --signed=false) the export succeeds and warns
// about each reset-by-subtraction and V0 loss. In both cases the file is
// exactly what nir.FromModel of the saved .snn model writes (the writer is
// deterministic), starts with the HDF5 signature, and the summary line
// counts its nodes and edges.
func TestExportSuccess(t *testing.T) {
	dir := t.TempDir()
	tests := []struct {
		name       string
		convert    []string
		export     []string
		wantLosses bool
	}{
		{"target nir, strict", []string{"--target", "nir"}, []string{"--strict"}, false},
		{"classic neurons", []string{"--max-spikes", "1", "--signed=false"}, []string{"--cost-images", "0"}, true},
	}
	for i, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			snn := filepath.Join(dir, fmt.Sprintf("m%d.snn", i))
			args := append([]string{"convert", lenet, "--calib", "32", "--timesteps", "4", "-o", snn}, tc.convert...)
			if code, _, stderr := runCLI(t, args...); code != exitOK {
				t.Fatalf("convert %v: exit %d: %s", tc.convert, code, stderr)
			}
			out := filepath.Join(dir, fmt.Sprintf("m%d.nir", i))
			args = append([]string{"export", snn, "--format", "nir", "-o", out}, tc.export...)
			code, stdout, stderr := runCLI(t, args...)
			if code != exitOK {
				t.Fatalf("export %v: exit %d: %s", tc.export, code, stderr)
			}
			file, err := os.ReadFile(out)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.HasPrefix(file, []byte("\x89HDF\r\n\x1a\n")) {
				t.Fatalf("%s does not start with the HDF5 signature: %q", out, file[:min(8, len(file))])
			}
			m, err := snnrt.Load(snn)
			if err != nil {
				t.Fatal(err)
			}
			g, losses, err := nir.FromModel(m, nir.Options{})
			if err != nil {
				t.Fatal(err)
			}
			var want bytes.Buffer
			if _, err := g.WriteTo(&want); err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(file, want.Bytes()) {
				t.Errorf("%s (%d bytes) differs from nir.FromModel of the saved model (%d bytes)", out, len(file), want.Len())
			}
			if (len(losses) > 0) != tc.wantLosses {
				t.Errorf("%d losses, want losses: %v", len(losses), tc.wantLosses)
			}
			summary := fmt.Sprintf("wrote %s: NIR %s, %d nodes, %d edges, %d semantic losses", out, nir.Version, len(g.Nodes), len(g.Edges), len(losses))
			if !strings.Contains(stdout, summary) {
				t.Errorf("stdout %q lacks %q", stdout, summary)
			}
			if got := strings.Count(stderr, "warning: "); got != len(losses) {
				t.Errorf("%d warnings on stderr for %d losses:\n%s", got, len(losses), stderr)
			}
			types := map[string]int{}
			for _, n := range g.Nodes {
				types[n.Type]++
			}
			if types[nir.TypeInput] != 1 || types[nir.TypeOutput] != 1 || types[nir.TypeIF] != 3 || types[nir.TypeConv2d] != 2 {
				t.Errorf("node types %v, want 1 Input, 1 Output, 3 IF and 2 Conv2d (LeNet)", types)
			}
		})
	}
}
