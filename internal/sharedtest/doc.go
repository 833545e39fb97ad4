// Package sharedtest locates the data that ann2snn's real-model tests read
// (reference ONNX models and data sets that are too large to commit), one
// way for every package, and decides what a test does when they are absent.
//
// The shared directory is, in order:
//
//  1. $ANN2SNN_SHARED_DIR, when set;
//  2. ../shared relative to the module root, the directory holding go.mod
//     found by walking up from the test's working directory (go test runs
//     each package in its own source directory). A checkout laid out as
//     …/main (this module) beside …/shared finds it with no setup.
//
// It is expected to hold models/*.onnx (see models/README.md there) and
// datasets/cifar10 (binary CIFAR-10).
//
// A missing file or directory skips the test, except when the CI
// environment variable is set to anything but "", "0" or "false": then it
// fails the test, so that a continuous-integration run cannot turn green by
// skipping every real-model test.
//
// The package is for tests only; nothing in the library imports it.
package sharedtest
