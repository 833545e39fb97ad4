// Package progress draws a one-line progress bar for long work on a
// terminal and stays silent elsewhere (pipes, files, CI), so logs and
// --json output are never interleaved with bar updates.
//
// A Bar counts finished units of work (Add) out of a total, and redraws
// the line (label, bar, count, rate, estimated time left, and an optional
// Extra string) at most ten times a second, overwriting it with a
// carriage return; Done draws the final state and ends the line. New
// draws only when the writer is a terminal (IsTerminal) and the CI
// environment variable is unset; otherwise, like the zero Bar, it counts
// silently, so callers never need to test where their output goes.
//
// A Bar is not safe for concurrent use: the goroutine that owns the work
// loop calls Add. There is one bar per line; nested or multiple bars are
// not supported.
package progress
