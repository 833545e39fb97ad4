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
//   - a chain of elementwise nodes that consume a node's output and nothing
//     else (Relu, Clip, Floor, Mul/Add/Sub/Div by a per-layer or per-channel
//     constant, BatchNormalization; the whole QCFS quantiser
//     Mul·Add·Floor·Clip·Mul) is fused into that node: into the
//     convolution's store, applied to each block of output pixels while it
//     is in cache (kernels.Conv.ForwardEpilogue), or in one in-place pass
//     over the output of any other node.
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
package ann
