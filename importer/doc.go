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
// directory only).
//
// # Files
//
// Load and LoadWith read the model with ReadModel: the path must name a
// regular file once symbolic links are followed, of at most
// Options.MaxModelBytes (DefaultMaxModelBytes, 2 GiB, when 0); a device
// (/dev/zero), FIFO (opened without blocking), socket or directory, or a
// larger file, is refused with a *FileError before anything is read.
// External data files are opened through an os.Root on the model
// directory: a location with "../" or an absolute path, and a symbolic
// link leading out of the directory, are refused, as is a file that is
// not regular; offset and length are checked against the file's real size
// before a byte is allocated. Those are *FormatError. Import time is
// linear in the size of the graph (BenchmarkImportChain: a 100k-node
// chain imports in about a second). It then writes a canonical copy (float32/int64 raw_data
// tensors, explicit attribute types, untyped graph inputs) that
// github.com/owulveryck/onnx-go decodes without panicking; a recover turns
// any remaining panic into a *FormatError. onnx-go drives the backend
// (backend.go), a gonum graph builder that keeps parallel edges; operators
// are matched with the pre-pass by call order and every tensor value is
// cross-checked between the two decoders.
//
// # Normal form
//
// Whatever the opset (tested 1..17 via the ONNX backend test data, 18 and
// 20 via the dynamo-style models of testdata/gen_dynamo.py) and exporter
// (TorchScript torch.onnx.export, the dynamo exporter's op forms), Load
// returns:
//   - no Constant, Identity or Dropout nodes, and no Pad with all-zero pads;
//     initializers, Constant values and everything computable from them
//     (constant folding: torch's Reciprocal/Mul chains on initializers,
//     shape arithmetic on constants) live in Graph.Consts; when every
//     graph input has a fully known declared shape, Shape nodes are
//     replaced by their values too, so Shape → Gather → Cast → Concat →
//     Reshape, Range, ConstantOfShape, Expand, Equal/Where chains fold
//     (a fixed declared batch size is then part of the constants, as in
//     torch's own static-shape exports);
//   - parameters that are constant inputs in recent opsets as attributes:
//     Clip "min"/"max" (float32), Reshape "shape", Squeeze/Unsqueeze "axes",
//     Pad "pads"/"value"/"axes", Slice "starts"/"ends"/"axes"/"steps",
//     ReduceMean/ReduceSum/ReduceMax/ReduceMin "axes" (opset 13/18 input),
//     Split "split" (opset 13 input) ([]int64); a node keeps its inputs
//     only if one of them is computed at run time (a Shape chain);
//   - unused optional outputs (BatchNormalization statistics, Dropout
//     mask, MaxPool indices, LayerNormalization mean and inverse standard
//     deviation) removed;
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
// Element types: every float type (float, double, float16, bfloat16) is
// held as float32 in Tensor.Data; int32 and int64 as int64 in Tensor.Ints;
// bool as Tensor.Ints holding 0 (false) or 1 (true). Comparisons (Equal,
// Less, Greater, LessOrEqual, GreaterOrEqual) and Not/And/Or/Xor produce
// such bool tensors; Where takes any non-zero value as true. Cast converts
// to float, double (held as float32), float16 (rounded to binary16, held
// as float32), int32, int64 (truncating toward zero; NaN or out-of-range
// values are an error) and bool.
//
// # Not supported
//
// 3-D convolution and pooling, Pad modes other than constant, MaxPool
// indices, training-mode BatchNormalization and Dropout (also a Dropout
// whose training_mode input is computed at run time), control flow,
// sequences, sparse tensors, string, 8- and 16-bit integer and
// uint32/uint64 tensors (their wrap-around arithmetic is not
// implemented), Cast to those types or to bfloat16/float8, CastLike,
// Resize other than mode "nearest" (linear, cubic), its
// coordinate_transformation_mode
// tf_crop_and_resize and half_pixel_symmetric, antialias,
// keep_aspect_ratio_policy other than "stretch", Resize from opset 10,
// Gelu approximations other than "none" and "tanh", operators outside
// SupportedOps. They are reported at load as *UnsupportedOpError or
// *UnsupportedFeatureError, never computed wrongly. Shape chains on a
// dynamic dimension are not folded (they run, by value, in InferShapes
// and at run time).
package importer
