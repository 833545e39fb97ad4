package main

import (
	"errors"
	"flag"
	"io"
	"testing"

	"github.com/ann2snn/ann2snn/calibrate"
	"github.com/ann2snn/ann2snn/convert"
)

func TestTargetFlag(t *testing.T) {
	tests := []struct {
		args     []string
		target   convert.Target
		keepNorm bool // the norm given by the options survives
		usage    bool
	}{
		{nil, convert.TargetSnnrt, true, false},
		{[]string{"--target", "nir"}, convert.TargetNIR, false, false},
		{[]string{"--target", "nir", "--norm", "max"}, convert.TargetNIR, true, false},
		{[]string{"--target", "nir", "--signed=false", "--max-spikes", "1", "--reset", "zero"}, convert.TargetNIR, false, false},
		{[]string{"--target", "nir", "--signed"}, 0, false, true},
		{[]string{"--target", "nir", "--max-spikes", "2"}, 0, false, true},
		{[]string{"--target", "nir", "--bias", "joint"}, 0, false, true},
		{[]string{"--target", "loihi"}, 0, false, true},
	}
	for _, tc := range tests {
		fs := flag.NewFlagSet("convert", flag.ContinueOnError)
		fs.SetOutput(io.Discard)
		fs.String("norm", "minerr", "")
		fs.Bool("signed", true, "")
		fs.Int("max-spikes", 2, "")
		fs.String("reset", "subtract", "")
		fs.String("bias", "off", "")
		tf := registerTarget(fs)
		if err := fs.Parse(tc.args); err != nil {
			t.Fatalf("%v: %v", tc.args, err)
		}
		opt, err := tf.apply(fs, convert.Options{Norm: calibrate.Max{}})
		var ue *usageError
		if tc.usage {
			if !errors.As(err, &ue) {
				t.Errorf("%v: error %v, want a usage error", tc.args, err)
			}
			continue
		}
		if err != nil {
			t.Fatalf("%v: %v", tc.args, err)
		}
		if opt.Target != tc.target || (opt.Norm != nil) != tc.keepNorm {
			t.Errorf("%v: target %v, norm %v; want %v, norm kept %t", tc.args, opt.Target, opt.Norm, tc.target, tc.keepNorm)
		}
	}
}
