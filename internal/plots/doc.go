// Package plots draws ann2snn's result curves as PNG files with
// gonum/plot: accuracy against time steps, firing rate per layer and
// per-layer conversion error.
//
// Each function takes the numbers to draw (already computed by the
// caller: the CLI's eval and bench commands) and a destination path, and
// builds one figure of a fixed size (16 × 10 cm): AccuracyVsT (a log2
// time axis with the ANN's accuracy as a horizontal line), Bars (one bar
// per named value) and Lines (several series against a shared x axis).
// Mismatched lengths and empty inputs are errors prefixed "plots:", never
// an empty figure. Files are written atomically (internal/atomicfile), so
// a failed or interrupted plot leaves any earlier file as it was.
//
// The package draws; it computes nothing, and PNG is the only format.
package plots
