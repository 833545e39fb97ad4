#!/usr/bin/python3
"""Make the image-folder and .npy test data of package dataset.

Run from the repository root with Debian's Python (Pillow 9.4, torchvision
0.14, numpy):

    /usr/bin/python3 dataset/testdata/gen_images.py

It writes, deterministically (fixed seeds):

  imagefolder/             a torchvision ImageFolder tree: classes whose
                           byte order differs from natural order, nested
                           sub-directories, upper-case extensions, ignored
                           files, and PNG/JPEG images of the pixel types
                           Pillow's convert("RGB") handles differently
                           (JPEG: 4:2:0, 4:2:2, gray, CMYK, odd sizes;
                           binary netpbm with several maxvals; BMP, TIFF,
                           lossless and lossy WebP).
  imagefolder_expected/
    order.txt              ImageFolder's samples: "label<TAB>relative path"
    folder.npy             float32 [N,3,12,12]: ImageFolder with
                           Resize(16), CenterCrop(12), ToTensor(),
                           Normalize(MEAN, STD) -- the whole pipeline
    <stem>.rgb.npy         uint8 [H,W,3]: Image.open(f).convert("RGB")
    <stem>.r16c12.npy      uint8: then Resize(16), CenterCrop(12)
    <stem>.c24.npy         uint8: CenterCrop(24) alone (pads small images)
    <stem>.r7.npy          uint8: Resize(7) alone
    resize_src.npy         uint8 [23,37,3] random image
    resize_WxH.npy         uint8: resize_src.resize((W,H), BILINEAR)
  npy/
    u8.npy                 uint8 [4,3,2,2] pixels
    f32.npy                float32 [4,3,2,2]: (u8/255 - MEAN)/STD, computed
                           by numpy (what np.save(normalised tensor) gives)
    labels.npy             int64 [4]

The expectations come from Pillow/torchvision/numpy, never from the Go code.
"""
import os
import shutil
import struct
import zlib

import numpy as np
import torch
from PIL import Image
from torchvision import datasets, transforms

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.join(HERE, "imagefolder")
EXP = os.path.join(HERE, "imagefolder_expected")
MEAN = (0.485, 0.456, 0.406)
STD = (0.229, 0.224, 0.225)
RESIZE_SIZES = [(5, 3), (16, 11), (37, 23), (50, 37), (100, 7), (12, 60), (36, 22), (1, 1)]


def smooth(rng, h, w, c, noise=12):
    """A smooth random image plus Gaussian noise of the given sigma."""
    y, x = np.mgrid[0:h, 0:w]
    out = np.zeros((h, w, c))
    for k in range(c):
        a, b, p = rng.uniform(0.05, 0.4, 3)
        out[..., k] = 127.5 + 100 * np.sin(a * x + b * y + p * 6) + rng.normal(0, noise, (h, w))
    return np.clip(out, 0, 255).astype(np.uint8)


def png16(path, arr):
    """Write a 16-bit RGB PNG (Pillow cannot save one)."""
    h, w, _ = arr.shape
    raw = b"".join(b"\x00" + arr[y].astype(">u2").tobytes() for y in range(h))

    def chunk(t, d):
        return struct.pack(">I", len(d)) + t + d + struct.pack(">I", zlib.crc32(t + d) & 0xFFFFFFFF)

    with open(path, "wb") as f:
        f.write(b"\x89PNG\r\n\x1a\n")
        f.write(chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 16, 2, 0, 0, 0)))
        f.write(chunk(b"IDAT", zlib.compress(raw, 9)))
        f.write(chunk(b"IEND", b""))


def make_folder(rng):
    shutil.rmtree(ROOT, ignore_errors=True)
    for d in ["10_ten", "9_nine", "Zebra", "apple/sub", "apple/sub b", "apple/sub/deeper"]:
        os.makedirs(os.path.join(ROOT, d))
    # 10_ten: RGB PNG (downscaled), grayscale PNG (upscaled), a text file.
    Image.fromarray(smooth(rng, 30, 40, 3)).save(os.path.join(ROOT, "10_ten/b_rgb.png"))
    Image.fromarray(smooth(rng, 17, 13, 1)[..., 0], "L").save(os.path.join(ROOT, "10_ten/a_gray.PNG"))
    with open(os.path.join(ROOT, "10_ten/notes.txt"), "w") as f:
        f.write("not an image\n")
    # 9_nine: palette with transparency, RGBA, LA, 1-bit.
    p = Image.fromarray(smooth(rng, 25, 25, 3)).quantize(16)
    p.info["transparency"] = 3
    p.save(os.path.join(ROOT, "9_nine/palette.png"), transparency=3)
    rgba = np.concatenate([smooth(rng, 20, 31, 3), rng.integers(0, 256, (20, 31, 1), dtype=np.uint8)], axis=2)
    Image.fromarray(rgba, "RGBA").save(os.path.join(ROOT, "9_nine/rgba.png"))
    la = np.concatenate([smooth(rng, 19, 22, 1), rng.integers(0, 256, (19, 22, 1), dtype=np.uint8)], axis=2)
    Image.fromarray(la, "LA").save(os.path.join(ROOT, "9_nine/la.png"))
    Image.fromarray(smooth(rng, 18, 18, 1)[..., 0] > 127).save(os.path.join(ROOT, "9_nine/bits.png"))
    # Zebra: 16-bit gray (Pillow mode I: convert clips to 255) and 16-bit RGB.
    g16 = (smooth(rng, 16, 21, 1)[..., 0].astype(np.uint16) * 3)  # 0..765: some values clip
    Image.fromarray(g16).save(os.path.join(ROOT, "Zebra/gray16.png"))
    png16(os.path.join(ROOT, "Zebra/rgb16.png"), smooth(rng, 15, 24, 3).astype(np.uint16) * 257 + 7)
    # apple: JPEGs (4:2:0 colour, grayscale, CMYK) in nested directories,
    # with little noise: like photographs, chroma varies slowly.
    Image.fromarray(smooth(rng, 36, 48, 3, noise=2)).save(os.path.join(ROOT, "apple/photo.jpg"), quality=95)
    Image.fromarray(smooth(rng, 20, 28, 1, noise=2)[..., 0], "L").save(os.path.join(ROOT, "apple/sub/gray.jpeg"), quality=95)
    Image.fromarray(smooth(rng, 22, 22, 3, noise=2)).convert("CMYK").save(os.path.join(ROOT, "apple/sub b/cmyk.JPG"), quality=95)
    Image.fromarray(smooth(rng, 14, 20, 3)).save(os.path.join(ROOT, "apple/sub/deeper/small.png"))
    # Odd sizes (edge handling of chroma upsampling), 4:2:2, and strong
    # per-pixel colour noise in 4:2:0.
    Image.fromarray(smooth(rng, 17, 23, 3, noise=2)).save(os.path.join(ROOT, "apple/sub/deeper/s422.jpg"),
                                                          quality=90, subsampling=1)
    Image.fromarray(smooth(rng, 21, 31, 3)).save(os.path.join(ROOT, "apple/sub/deeper/noisy.jpg"), quality=90)
    # Binary netpbm: maxval 255 (as is), below 255 and above (rescaled by
    # Pillow), and a 16-bit graymap (Pillow mode I: clipped to 255).
    def pnm(name, magic, maxval, arr):
        dtype = ">u2" if maxval > 255 else np.uint8
        with open(os.path.join(ROOT, name), "wb") as f:
            f.write(b"%s\n# made by gen_images.py\n%d %d\n%d\n" % (magic, arr.shape[1], arr.shape[0], maxval))
            f.write(arr.astype(dtype).tobytes())
    pnm("Zebra/g255.pgm", b"P5", 255, smooth(rng, 13, 15, 1)[..., 0])
    pnm("Zebra/g100.PGM", b"P5", 100, smooth(rng, 14, 12, 1)[..., 0] * 100 // 255)
    pnm("Zebra/g1000.pgm", b"P5", 1000, smooth(rng, 12, 12, 1)[..., 0].astype(np.int64) * 1000 // 255)
    pnm("Zebra/c255.ppm", b"P6", 255, smooth(rng, 16, 13, 3))
    pnm("Zebra/c999.ppm", b"P6", 999, smooth(rng, 15, 17, 3).astype(np.int64) * 999 // 255)
    # BMP, TIFF (RGB and palette) and lossless WebP, decoded by golang.org/x/image.
    Image.fromarray(smooth(rng, 11, 14, 3)).save(os.path.join(ROOT, "Zebra/rgb.bmp"))
    Image.fromarray(smooth(rng, 12, 15, 3)).save(os.path.join(ROOT, "Zebra/rgb.tif"))
    Image.fromarray(smooth(rng, 13, 13, 3)).quantize(8).save(os.path.join(ROOT, "Zebra/pal.tiff"))
    Image.fromarray(smooth(rng, 14, 16, 3)).save(os.path.join(ROOT, "Zebra/lossless.webp"), lossless=True)
    # Lossy WebP (VP8 4:2:0, limited range): odd and even sizes, and with alpha.
    Image.fromarray(smooth(rng, 13, 15, 3, noise=4)).save(os.path.join(ROOT, "Zebra/lossy_odd.webp"), quality=80)
    Image.fromarray(smooth(rng, 12, 16, 3, noise=4)).save(os.path.join(ROOT, "Zebra/lossy_even.webp"), quality=80)
    rgba = np.concatenate([smooth(rng, 14, 17, 3, noise=4), rng.integers(0, 256, (14, 17, 1), dtype=np.uint8)], axis=2)
    Image.fromarray(rgba, "RGBA").save(os.path.join(ROOT, "Zebra/lossy_alpha.webp"), quality=80)


def main():
    rng = np.random.default_rng(12)
    make_folder(rng)
    shutil.rmtree(EXP, ignore_errors=True)
    os.makedirs(EXP)

    tf = transforms.Compose([transforms.Resize(16), transforms.CenterCrop(12), transforms.ToTensor(),
                             transforms.Normalize(MEAN, STD)])
    ds = datasets.ImageFolder(ROOT, transform=tf)
    with open(os.path.join(EXP, "order.txt"), "w") as f:
        for path, label in ds.samples:
            f.write(f"{label}\t{os.path.relpath(path, ROOT)}\n")
    x = torch.stack([ds[i][0] for i in range(len(ds))]).numpy().astype(np.float32)
    np.save(os.path.join(EXP, "folder.npy"), x)

    per_image = {
        "r16c12": transforms.Compose([transforms.Resize(16), transforms.CenterCrop(12)]),
        "c24": transforms.CenterCrop(24),
        "r7": transforms.Resize(7),
    }
    for path, _ in ds.samples:
        stem = os.path.relpath(path, ROOT).replace("/", "_").replace(" ", "_")
        rgb = Image.open(path).convert("RGB")
        np.save(os.path.join(EXP, stem + ".rgb.npy"), np.asarray(rgb))
        for name, t in per_image.items():
            np.save(os.path.join(EXP, f"{stem}.{name}.npy"), np.asarray(t(rgb)))

    src = smooth(rng, 23, 37, 3)
    src[::5] = rng.integers(0, 256, src[::5].shape, dtype=np.uint8)  # sharp rows test the filter support
    np.save(os.path.join(EXP, "resize_src.npy"), src)
    for w, h in RESIZE_SIZES:
        out = Image.fromarray(src).resize((w, h), Image.BILINEAR)
        np.save(os.path.join(EXP, f"resize_{w}x{h}.npy"), np.asarray(out))

    npy = os.path.join(HERE, "npy")
    os.makedirs(npy, exist_ok=True)
    u8 = rng.integers(0, 256, (4, 3, 2, 2), dtype=np.uint8)
    np.save(os.path.join(npy, "u8.npy"), u8)
    mean = np.array(MEAN, dtype=np.float32).reshape(1, 3, 1, 1)
    std = np.array(STD, dtype=np.float32).reshape(1, 3, 1, 1)
    np.save(os.path.join(npy, "f32.npy"), ((u8.astype(np.float32) / np.float32(255) - mean) / std).astype(np.float32))
    np.save(os.path.join(npy, "labels.npy"), np.array([3, 0, 2, 1], dtype=np.int64))


if __name__ == "__main__":
    main()
