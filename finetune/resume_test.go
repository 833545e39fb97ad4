package finetune

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/ann2snn/ann2snn/snnrt"
)

// TestResumeRefusesOtherRun writes a checkpoint and resumes it with the
// same settings (accepted) and with another learning rate, other data,
// another warm-up or a validation split (refused: that would silently
// continue a different run).
func TestResumeRefusesOtherRun(t *testing.T) {
	m := smallNet(t, 32, true, snnrt.IF{})
	ds := toyData(t, 32, 2)
	cfg := Config{T: 2, Batch: 16, Epochs: 2, LR: 1e-2, Seed: 3, Data: "npy:a.npy,b.npy:train"}
	tr, err := New(m, ds, toyPre, cfg)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "ck.snn")
	if err := tr.SaveCheckpoint(path); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		edit func(c *Config)
		want string // "" for accepted
	}{
		{"same settings", func(*Config) {}, ""},
		{"other learning rate", func(c *Config) { c.LR = 2e-2 }, "LR:0.02"},
		{"other data", func(c *Config) { c.Data = "mnist:train" }, "Data:mnist:train"},
		{"other warm-up", func(c *Config) { c.Warmup = 5 }, "Warmup:5"},
		{"validation images held out", func(c *Config) { c.Val = 4 }, "Val:4"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := cfg
			tc.edit(&c)
			_, err := Resume(path, ds, toyPre, c)
			switch {
			case tc.want == "" && err != nil:
				t.Fatalf("Resume with the same settings: %v", err)
			case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
				t.Fatalf("Resume: %v; want a refusal mentioning %q", err, tc.want)
			}
		})
	}
}
