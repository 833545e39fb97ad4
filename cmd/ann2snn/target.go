package main

import (
	"flag"
	"fmt"
	"strings"

	"github.com/ann2snn/ann2snn/convert"
)

// targetFlag is convert's --target flag.
type targetFlag struct{ name string }

// registerTarget adds --target to fs.
func registerTarget(fs *flag.FlagSet) *targetFlag {
	t := &targetFlag{}
	fs.StringVar(&t.name, "target", "snnrt", "simulator the SNN is built for: snnrt | nir (neurons NIR's IF runs: reset to zero, V0 = 0, one binary spike per step, one θ per layer; thresholds and biases calibrated by simulating them; exportable with ann2snn export --format nir without loss; see docs/nir.md)")
	return t
}

// nirTargetFlags are the convert flags --target nir sets itself, with the
// values it is compatible with.
var nirTargetFlags = map[string]string{
	"signed":      "false",
	"max-spikes":  "1",
	"reset":       "zero",
	"no-shift":    "true",
	"per-channel": "false",
	"bias":        "off",
}

// apply sets opt.Target and, for --target nir, refuses the neuron flags
// given on the command line with a value the target overrides, and
// leaves the threshold norm to the target unless --norm was given.
func (t *targetFlag) apply(fs *flag.FlagSet, opt convert.Options) (convert.Options, error) {
	tg, err := convert.ParseTarget(t.name)
	if err != nil {
		return opt, &usageError{"--target: " + err.Error()}
	}
	opt.Target = tg
	if tg != convert.TargetNIR {
		return opt, nil
	}
	normSet := false
	var bad []string
	fs.Visit(func(f *flag.Flag) {
		if f.Name == "norm" {
			normSet = true
		}
		if want, ok := nirTargetFlags[f.Name]; ok && f.Value.String() != want {
			bad = append(bad, fmt.Sprintf("--%s %s", f.Name, f.Value))
		}
	})
	if len(bad) > 0 {
		return opt, &usageError{fmt.Sprintf("--target nir sets the neurons itself (--signed=false --max-spikes 1 --reset zero --no-shift, one θ per layer, its own bias correction); drop %s", strings.Join(bad, ", "))}
	}
	if !normSet {
		opt.Norm = nil // calibrate.ResetZeroMSE
	}
	return opt, nil
}
