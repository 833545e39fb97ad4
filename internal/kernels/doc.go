// Package kernels holds the dense numeric kernels shared by the ANN executor
// and the SNN runtime: matrix multiplication, 2-D convolution and pooling on
// float32 data in NCHW layout.
//
// Data flow: Sgemm is a BLIS-style packed GEMM. op(A) and op(B) are copied
// into micro-panels (6 rows of A, 32 columns of B, k-major) in cache-sized
// blocks (k 256, m 144, n 3072) and a 6×32 register-tile micro-kernel
// computes each tile of C. The micro-kernel is chosen at run time (with
// golang.org/x/sys/cpu): on amd64 with AVX-512F it is one 6×32 tile in
// twelve ZMM registers (and, for the last rows of C when m is not a
// multiple of 6, a variant that computes and writes only those rows, with
// the same bits), with AVX2 and FMA two 6×16 halves in YMM registers
// (both Go assembly, kernel_amd64.s); elsewhere, or with the build tag
// noasm, a portable Go kernel computes the same sums without FMA. The
// tests run every kernel the CPU has against the portable one and against
// a float64 reference.
//
// Conv is a prepared convolution: NewConv packs the weights once, Forward
// lowers each group to a GEMM over an im2col matrix that it writes directly
// in packed form into a caller-provided workspace, a block of output pixels
// at a time, and never allocates. Depthwise convolutions use direct loops.
// ConvNHWC runs the same GEMM the other way round (im2col as the A operand,
// the weights as B), so that its tiles are pixels × channels and the output
// comes out channels-last, bit-identical to Conv's transposed.
// With AVX-512 the im2col panels are filled with masked loads (stride-1
// panels of at most two output-row runs) or masked gathers (panels of many
// short runs) from offset and mask tables that NewConv precomputes for
// every full panel position within an image, and Conv.ForwardEpilogue
// applies a per-channel Epilogue to each block of outputs while it is in
// cache; Relu and Quantize (the QCFS chain) are such epilogues with AVX-512
// loops, bit-identical to their portable loops.
// Dense is a prepared fully connected layer: NewDense packs the weight
// matrix once as B micro-panels, Forward packs the input rows as A panels
// and runs Sgemm's loops, then adds the bias and applies a RowEpilogue to
// each block of rows while it is in cache; each output is bit-identical to
// Sgemm's followed by the bias.
// ConvRef is the slow reference that defines the semantics; AvgPool,
// MaxPool and GlobalAvgPool follow ONNX (ceil mode, count_include_pad).
//
// Every kernel is deterministic: the value of each output element depends
// only on the inputs, never on the batch size, on how work is split or on the
// number of cores. The summation order over the reduction dimension is fixed
// (GEMM: blocks of 256 in ascending order, one FMA per term). Results of the
// assembly and portable kernels agree to rounding, not bit for bit. All
// kernels run on the calling goroutine; callers parallelise across images.
//
// Kernels panic (with the prefix "kernels:") on malformed arguments such as
// short slices or an invalid geometry; that is programmer misuse, not bad
// user input, which callers check first (ConvGeom.Validate,
// PoolGeom.Validate).
package kernels
