// Package cputime reads the CPU time of the process and of the calling
// thread, for tests and benchmarks that must not be skewed by other jobs on
// a busy machine (wall time is; CPU time mostly is not).
//
// Where the platform does not say, the functions report ok == false and the
// caller falls back to wall time.
package cputime
