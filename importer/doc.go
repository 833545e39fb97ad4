// Package importer reads ONNX models into ann2snn's graph IR and defines
// the reference semantics of every supported operator.
//
// # Data flow
//
//	bytes ──protowire pre-pass──▶ checked, canonical bytes ──onnx-go──▶ backend
//	      ──assemble──▶ Graph ──normalize + fold──▶ Graph (validated)
//
// The pre-pass (wire.go, tensorio.go) reads the ModelProto with
// google.golang.org/protobuf/encoding/protowire. It checks every tensor's
// element count against its data and against MaxElements, checks declared
// value shapes, rejects unsupported operators, domains and element types,
// and inlines external tensor data (read from files under the model
// directory only). It then writes a canonical copy (float32/int64 raw_data
// tensors, explicit attribute types, untyped graph inputs) that
// github.com/owulveryck/onnx-go decodes without panicking; a recover turns
// any remaining panic into a *FormatError. onnx-go drives the backend
// (backend.go), a gonum graph builder that keeps parallel edges; operators
// are matched with the pre-pass by call order and every tensor value is
// cross-checked between the two decoders.
//
// # Normal form
//
// Whatever the opset (tested 1..18 via the ONNX backend test data) and
// exporter, Load returns:
//   - no Constant, Identity or Dropout nodes, and no Pad with all-zero pads;
//     initializers, Constant values and everything computable from them
//     (constant folding: torch's Reciprocal/Mul chains on initializers,
//     shape arithmetic on constants) live in Graph.Consts;
//   - parameters that are constant inputs in recent opsets as attributes:
//     Clip "min"/"max" (float32), Reshape "shape", Squeeze/Unsqueeze "axes",
//     Pad "pads"/"value"/"axes", Slice "starts"/"ends"/"axes"/"steps"
//     ([]int64); a node keeps its inputs only if one of them is computed
//     at run time (a Shape chain);
//   - unused optional outputs (BatchNormalization statistics, Dropout
//     mask, MaxPool indices) removed;
//   - Softmax from opset < 13 marked with the int64 attribute coerce2d=1
//     (flatten to 2-D at axis) unless shapes show that axis is the last;
//   - unique, non-empty node names; nodes in topological order; unused
//     nodes and constants pruned.
//
// Shape chains that depend on the runtime input (Shape → Gather → Concat →
// Reshape) stay in the graph; InferShapes evaluates them by value.
//
// # Semantics
//
// Eval is the reference implementation of each operator (NCHW float32,
// batch in dimension 0; integer tensors in Tensor.Ints for shape
// arithmetic). RunRef applies it node by node. The operator table
// (ops.go) holds, per operator, its evaluation, its shape function and
// the attribute checks done at import; one file per operator family.
//
// # Not supported
//
// 3-D convolution and pooling, Pad modes other than constant, MaxPool
// indices, training-mode BatchNormalization and Dropout, control flow,
// sequences, sparse tensors, string/bool/8- and 16-bit integer tensors,
// operators outside SupportedOps. They are reported at load as
// *UnsupportedOpError or *UnsupportedFeatureError, never computed wrongly.
package importer
