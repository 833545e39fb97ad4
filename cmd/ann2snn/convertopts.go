package main

import (
	"flag"
	"fmt"

	"github.com/ann2snn/ann2snn/convert"
)

// flagsSet returns the names of the flags given on fs's command line.
func flagsSet(fs *flag.FlagSet) map[string]bool {
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	return set
}

// optionsLine is convert's header line of the neuron and threshold
// options it will use (the per-T defaults and the target's overrides
// filled in; the same values go into the .snn metadata as convert.*).
func optionsLine(opt convert.Options) string {
	md := opt.Effective().Metadata()
	g := "per-layer"
	if md["convert.per_channel"] == "true" {
		g = "per-channel"
	}
	return fmt.Sprintf("options   T=%s: %s thresholds (%s), up to %s spikes per step, signed %s, shift %s, reset %s, bias %s (per-T defaults, docs/methods.md; flags override)",
		md["convert.t"], g, md["convert.norm"], md["convert.max_spikes"], md["convert.signed"], md["convert.shift"], md["convert.reset"], md["convert.bias"])
}
