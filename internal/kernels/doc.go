// Package kernels holds the dense numeric kernels shared by the ANN executor
// and the SNN runtime: matrix multiplication, 2-D convolution and pooling on
// float32 data in NCHW layout.
//
// Every kernel is deterministic: the value of each output element depends
// only on the inputs, never on the batch size, on how work is split or on the
// number of cores. The summation order over the reduction dimension is fixed.
//
// Kernels panic (with the prefix "kernels:") on malformed arguments such as
// short slices; that is programmer misuse, not bad user input, which callers
// check first.
package kernels
