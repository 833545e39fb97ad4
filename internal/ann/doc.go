// Package ann is the reference executor for imported ANNs: it runs an
// importer.Graph on a batch of NCHW float32 images and returns the graph
// output, and optionally the values of named intermediate tensors.
//
// It is the ground truth the converted SNN is measured against, so it
// computes each node with importer.Eval, the op semantics that the ONNX
// conformance tests check. Speed comes from the kernels Eval calls and from
// running chunks of the batch on all cores: the batch is cut into one chunk
// per worker and each chunk runs the whole graph. Every image is computed
// independently of the others, so results do not depend on GOMAXPROCS or
// on the batch size.
package ann
