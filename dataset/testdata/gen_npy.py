#!/usr/bin/python3
"""Write .npy files with numpy for the reader tests of package dataset.

Run from the repository root with Debian's Python and numpy (1.24):

    /usr/bin/python3 dataset/testdata/gen_npy.py

It writes dataset/testdata/npy/numpy/*.npy with numpy's own writers
(np.save, np.lib.format.write_array) and manifest.json, which records for
each file what numpy says it holds: dtype, shape and the values in C order
(floats as Python floats, exact for float32 and float64), or the reason the
reader must refuse it ("fortran_order", "big-endian", "dtype"). The values
are deterministic (no random numbers), so rerunning rewrites the same files.
The Go test (npy_numpy_test.go) reads every file and compares.
"""
import json
import os

import numpy as np

OUT = os.path.join("dataset", "testdata", "npy", "numpy")


def main():
    os.makedirs(OUT, exist_ok=True)
    cases = {}

    def save(name, arr, version=None, refuse=None):
        path = os.path.join(OUT, name + ".npy")
        if version is None:
            np.save(path, arr, allow_pickle=False)
        else:
            with open(path, "wb") as f:
                np.lib.format.write_array(f, arr, version=version, allow_pickle=False)
        # What numpy reads back is the reference.
        back = np.load(path, allow_pickle=False)
        entry = {"dtype": back.dtype.str, "shape": list(back.shape)}
        if refuse:
            entry["refuse"] = refuse
        else:
            flat = np.ascontiguousarray(back).reshape(-1)
            if back.dtype.kind == "f":
                entry["values"] = [float(v) for v in flat]
            else:
                entry["values"] = [int(v) for v in flat]
        cases[name] = entry

    # Images [N,C,H,W] float32: values that are not short decimals.
    save("f32_nchw", (np.arange(2 * 3 * 2 * 2, dtype=np.float32) / np.float32(7) - np.float32(1.5)).reshape(2, 3, 2, 2))
    # Images [N,H,W] float64 (one channel): thirds, negative and large.
    save("f64_nhw", ((np.arange(3 * 2 * 4, dtype=np.float64) - 11) / 3 * 1e3).reshape(3, 2, 4))
    # Vectors [N,D] uint8 over the whole byte range.
    save("u8_nd", (np.arange(4 * 5, dtype=np.int64) * 13 % 256).astype(np.uint8).reshape(4, 5))
    # Labels: int64 [N], int32 [N,1], int16 and int8 with negative values.
    save("labels_i64", np.array([3, 0, 2, 1], dtype=np.int64))
    save("labels_i32_col", np.array([[1], [2], [0], [3]], dtype=np.int32))
    save("i16", np.array([-32768, -1, 0, 1, 32767], dtype=np.int16))
    save("i8", np.array([[-128, -1], [0, 127]], dtype=np.int8))
    # A 0-d array and an empty one.
    save("f32_scalar", np.array(2.5, dtype=np.float32))
    save("f32_empty", np.zeros((0, 3), dtype=np.float32))
    # Format version 2.0 (4-byte header length).
    save("f32_v2", np.array([[0.5, -0.25, 1e-8]], dtype=np.float32), version=(2, 0))
    # Files the reader must refuse, with the reason.
    save("fortran", np.asfortranarray(np.arange(6, dtype=np.float32).reshape(2, 3)), refuse="fortran_order")
    save("bigendian", np.arange(4, dtype=">f4"), refuse="big-endian")
    save("f16", np.arange(4, dtype=np.float16), refuse="dtype")

    with open(os.path.join(OUT, "manifest.json"), "w") as f:
        json.dump(cases, f, indent=1, sort_keys=True)
        f.write("\n")
    print("wrote %d files to %s (numpy %s)" % (len(cases), OUT, np.__version__))


if __name__ == "__main__":
    main()
