// Package dataset reads image data sets for ann2snn and turns them into the
// float32 NCHW batches that ANN and SNN models consume.
//
// # Data flow
//
// A reader decodes a file into a Dataset, which holds N images of shape
// [C,H,W] and their labels. Pixels stay in memory as stored (raw uint8 for
// IDX, CIFAR-10 and uint8 .npy files; float32 otherwise), so the CIFAR-10
// test set costs 30 MB rather than 120 MB. An image folder is the
// exception: its Dataset holds file names, and Batch decodes the files it
// needs each time (GOMAXPROCS at a time), so 50,000 ImageNet images cost
// their names. Batch decodes a range of images into a caller-owned
// []float32 and applies a Preprocess:
//
//	x = (v*Scale - Mean[c]) / Std[c]
//
// With Scale = 1/255 raw 0..255 pixels map to [0,1]. PreprocessFromMeta
// reads the same parameters from the ann2snn.* ONNX metadata keys
// (MetaScale, MetaMean, MetaStd), and ImageOptionsFromMeta the resize and
// crop of image files (MetaResize, MetaCrop). Batch does not allocate for data held in
// memory.
//
// # Formats
//
//   - IDX (MNIST, Fashion-MNIST): ReadIDX, LoadIDX. Unsigned-byte elements only.
//   - CIFAR-10 binary version: ReadCIFAR10, LoadCIFAR10.
//   - NumPy .npy v1/v2/v3, C order, little-endian u1 i1 i2 i4 i8 f4 f8:
//     ReadNPY, LoadNPY.
//   - Image folders as torchvision.datasets.ImageFolder lists them
//     (DIR/CLASS/…/IMAGE, classes and files in sorted order): PNG, JPEG,
//     BMP, TIFF, WebP and binary netpbm (P5, P6) files, converted to RGB
//     as Pillow's convert("RGB") does and optionally resized and
//     centre-cropped as torchvision's Resize and CenterCrop do to PIL
//     images (ImageOptions; Pillow's antialiased bilinear filter,
//     reproduced bit for bit): LoadImageFolder. PNG, BMP, TIFF, WebP
//     (lossy WebP converted as libwebp does) and netpbm pixels are
//     identical to Pillow's on the test images. JPEG files
//     are decoded by Go's image/jpeg, then chroma is upsampled and
//     converted to RGB as libjpeg-turbo (Pillow) does; Go's inverse DCT
//     rounds differently, so pixels may differ by a few levels (at most
//     3 on the test images, 0.07 on average).
//
// Every file may be gzip-compressed; compression is detected from the
// first bytes, not the name (image files are not decompressed). Open loads
// the named sets mnist, fashion-mnist and cifar10 from their local copies
// (it never downloads) as well as user files (npy:, idx:, imagefolder:).
//
// # Invariants
//
// Readers return errors and never panic on bad input: a *FormatError when
// the file is malformed (bad magic, truncated, trailing bytes, header and
// size disagree), an *UnsupportedError when a valid file uses a feature
// this package lacks (Fortran order, big-endian data, IDX types other than
// unsigned byte). A header is checked against the size the file can hold
// before large buffers are allocated; for gzip input, where the decoded
// size is unknown, buffers grow with the data actually read.
//
// A Dataset is immutable after construction and safe for concurrent use.
// Sample is deterministic: it depends only on its arguments and Len.
//
// Image files are recognised by content; one larger than Pillow's
// decompression-bomb limit (178,956,970 pixels) is refused from its header,
// before pixels are decoded. A file that cannot be decoded is an error
// naming it, returned by the Batch call that needs it.
//
// Not supported: plain (ASCII) netpbm and PBM bitmaps, EXIF orientation
// (ignored, as Pillow's Image.open ignores it), the CIFAR-100 layout, IDX
// element types other than unsigned byte, .npz archives, structured or
// object .npy dtypes, and channels-last (NHWC) .npy images, which are read
// as NCHW without checking.
package dataset
