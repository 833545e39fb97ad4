// Package hdf5 writes a small, read-only-by-design subset of HDF5: a tree of
// groups holding contiguous datasets of float32, float64, int64 and
// variable-length UTF-8 strings, scalar or N-dimensional. It exists so that
// ann2snn can write NIR files (snnrt/nir) without cgo; it cannot read HDF5,
// and it writes nothing it does not need.
//
// # Use
//
// Build the tree in memory with File.Root, Group.Group and the Group.Float32,
// Float64, Int64, String and Strings methods, then serialise it once with
// File.WriteTo. Names are checked when added (non-empty, no '/', not "." or
// "..", unique within the group); data are copied, so callers may reuse
// their slices. A File is not safe for concurrent use.
//
// # What is written
//
// The layout follows the HDF5 File Format Specification (version 3.0, the
// format of HDF5 1.10–1.14; section numbers below are its own), using the
// structures the HDF5 library uses for files created with the 1.8 format
// ("libver v108": superblock 2, version 2 object headers, link messages):
//
//   - II.A "Format Signature and Superblock", superblock version 2: 8-byte
//     offsets and lengths, base address 0, no superblock extension, the
//     root group's object header address, and a Jenkins lookup3 checksum
//     (the checksum named by the specification; lookup3.go).
//   - IV.A.1.b "Version 2 Data Object Header Prefix" ("OHDR"): one chunk,
//     a 4-byte chunk size, no timestamps, no attribute phase-change
//     values, lookup3 checksum. Messages carry no creation order.
//   - Groups are "compact" new-style groups (IV.A.2.c Link Info message
//     with undefined fractal heap and name-index addresses, IV.A.2.k Group
//     Info message, and one IV.A.2.g Link message — hard link, ASCII or
//     UTF-8 name — per member). When a group has more than 8 members the
//     Group Info message stores a maximum-compact value equal to the
//     member count, so that the library's phase-change rule stays
//     consistent with what is on disk.
//   - Datasets: IV.A.2.b Dataspace message (version 2, scalar or simple,
//     no maximum dimensions), IV.A.2.d Datatype message (version 1:
//     little-endian IEEE float32/float64 of class 1, signed 64-bit
//     fixed-point of class 0, and variable-length string of class 9 whose
//     base type is an unsigned 8-bit fixed-point, UTF-8, null-terminated
//     padding — exactly h5py's string_dtype()), IV.A.2.f Fill Value message
//     (version 3, late allocation, fill value written only if set, none
//     set) and IV.A.2.i Data Layout message (version 3, contiguous).
//   - Variable-length strings live in III.E "Global Heap" collections
//     ("GCOL", version 1), at least 4096 bytes each (the library's minimum
//     collection size) with the trailing free space described by heap
//     object 0. An element of a string dataset is 16 bytes: the string's
//     byte length (4), then its global heap ID — collection address (8)
//     and object index (4) — as IV.A.2.d describes for variable-length
//     types.
//
// Order on disk: superblock, global heap collections, object headers in
// depth-first order, then raw data, each dataset's data 8-byte aligned.
// The end-of-file address in the superblock is the file's length.
//
// # Not supported
//
// Reading, attributes, chunked or compressed storage, fill values,
// other datatypes (integers other than int64, compound, enum, arrays,
// fixed-length strings), soft/external links, dense (fractal-heap)
// groups, empty (zero-length) dimensions and files over 2^63 bytes.
//
// The tests write files and check them with h5dump and h5py
// (/usr/bin/python3); they are skipped when those tools are absent.
package hdf5
