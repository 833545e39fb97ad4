// Package ann is the reference executor for imported ANNs: it runs an
// importer.Graph on a batch of NCHW float32 images and returns the graph
// output, and optionally the values of named intermediate tensors.
//
// It is the ground truth the converted SNN is measured against, so every
// value it computes is bit-identical to evaluating the graph node by node
// with importer.Eval, the op semantics that the ONNX conformance tests
// check. New turns the graph into a plan (plan.go) that gets there faster:
//
//   - nodes whose inputs are all constant (e.g. QCFS's Reciprocal(λ)·L) are
//     evaluated once, by importer.Eval, when the executor is built;
//   - 2-D convolutions with constant weights are prepared once as
//     kernels.Conv (weights packed for the GEMM micro-kernel);
//   - Gemm nodes (fully connected layers) with constant weights, beta 1
//     and a per-column bias are prepared once as kernels.Dense (weights
//     packed for the same micro-kernel, summed exactly as kernels.Sgemm,
//     which importer.Eval calls, sums them); a Flatten(axis 1) that feeds
//     only such a Gemm is folded into it: in NCHW it is a reshape, so the
//     Gemm reads the pooled image rows in place and nothing is copied;
//   - a chain of elementwise nodes that consume a node's output and nothing
//     else (Relu, Clip, Floor, Mul/Add/Sub/Div by a per-layer or per-channel
//     constant, BatchNormalization; the whole QCFS quantiser
//     Mul·Add·Floor·Clip·Mul) is fused into that node: into the
//     convolution's store, applied to each block of output pixels while it
//     is in cache (kernels.Conv.ForwardEpilogue, and per block of rows
//     kernels.Dense.ForwardEpilogue), or in one in-place pass over the
//     output of any other node.
//
// Fused steps compute each elementwise node with the same float32
// operation as importer.Eval, rounded after every operation (no fused
// multiply-add), so fusion changes no bit; TestFusedMatchesUnfused checks
// it on the shared QCFS models. A value inside a fused chain that Forward
// is asked to keep is computed by running that chain node by node.
//
// Speed also comes from running chunks of the batch on all cores: the batch
// is cut into one chunk per worker and each chunk runs the whole plan.
// Every image is computed independently of the others, so results do not
// depend on GOMAXPROCS or on the batch size.
//
// Layer outputs come from a per-chunk arena of buffers that is reused
// across calls (the output's buffer too, after Forward copies it out), so a
// steady stream of batches allocates no layer output.
package ann
