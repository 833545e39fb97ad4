package main

import (
	"runtime/debug"
	"strings"
)

// metaToolVersion is the .snn metadata key holding the version of the
// ann2snn that wrote the file (docs/format.md).
const metaToolVersion = "ann2snn.tool_version"

// metaSourceSHA256 is the .snn metadata key holding the SHA-256 of the
// source ONNX file (docs/format.md).
const metaSourceSHA256 = "ann2snn.source_sha256"

// toolVersion returns the version of this binary: the main module's
// version when it was built from a tagged module (go install ...@v1.2.3),
// else the VCS revision it was built from (with "+modified" when the tree
// had uncommitted changes), else "devel".
func toolVersion() string {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return "devel"
	}
	return versionOf(bi)
}

// versionOf is toolVersion for the build information bi.
func versionOf(bi *debug.BuildInfo) string {
	if v := bi.Main.Version; v != "" && v != "(devel)" {
		return v
	}
	var rev string
	var modified bool
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.modified":
			modified = s.Value == "true"
		}
	}
	if rev == "" {
		return "devel"
	}
	if len(rev) > 12 {
		rev = rev[:12]
	}
	if modified {
		rev += "+modified"
	}
	return "devel-" + strings.TrimSpace(rev)
}
