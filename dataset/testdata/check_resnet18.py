#!/usr/bin/python3
"""End-to-end check of issue 12: data as users hold it, fed to a
torchvision ResNet-18 (random weights, seed 0), compared with PyTorch.

    /usr/bin/python3 dataset/testdata/check_resnet18.py prepare OUT CIFAR_DIR
    go run ./cmd/ann2snn eval OUT/resnet18.onnx --data npy:OUT/x.npy,OUT/y.npy --logits OUT/npy.logits
    go run ./cmd/ann2snn eval OUT/resnet18.onnx --data imagefolder:OUT/images \\
        --resize 256 --crop 224 --mean 0.485,0.456,0.406 --std 0.229,0.224,0.225 --logits OUT/folder.logits
    go run ./cmd/ann2snn eval OUT/resnet18.onnx --data imagefolder:OUT/images_jpg \\
        --resize 256 --crop 224 --logits OUT/jpg.logits
    /usr/bin/python3 dataset/testdata/check_resnet18.py compare OUT

prepare writes, from the first 32 CIFAR-10 test images (binary version,
CIFAR_DIR/test_batch.bin[.gz]):
  resnet18.onnx       torchvision resnet18(num_classes=1000), torch.manual_seed(0),
                      eval mode, classifier centred on the images' mean feature
                      (see prepare), with ImageNet preprocessing in metadata_props
                      (ann2snn.scale/mean/std), which float data must NOT get
  x.npy, y.npy        float32 [32,3,224,224]: each image upscaled to 224 by PIL
                      bilinear, ToTensor, Normalize(ImageNet) -- what
                      np.save(x.numpy()) gives; y = PyTorch's argmax
  images/c/NNN.png    the same images as 32x32 PNG files (one class folder)
  images_jpg/c/NNN.jpg  and as JPEG files (quality 90, 4:2:0)
  torch_npy.npy       PyTorch logits of x
  torch_folder.npy    PyTorch logits of ImageFolder(images) with Resize(256),
                      CenterCrop(224), ToTensor, Normalize(ImageNet)
  torch_jpg.npy       the same for images_jpg
compare prints top-1 agreement and the largest logit difference of each
ann2snn run (--logits: float32 little-endian, images x classes) with PyTorch.
"""
import gzip
import os
import sys

import numpy as np
import torch
import torchvision
from PIL import Image
from torchvision import datasets, transforms

MEAN, STD = (0.485, 0.456, 0.406), (0.229, 0.224, 0.225)
N = 32


def cifar_images(d):
    p = os.path.join(d, "test_batch.bin")
    raw = open(p, "rb").read() if os.path.exists(p) else gzip.open(p + ".gz").read()
    rec = np.frombuffer(raw, np.uint8).reshape(-1, 3073)[:N]
    return rec[:, 1:].reshape(N, 3, 32, 32).transpose(0, 2, 3, 1)


def prepare(out, cifar):
    os.makedirs(os.path.join(out, "images", "c"), exist_ok=True)
    os.makedirs(os.path.join(out, "images_jpg", "c"), exist_ok=True)
    imgs = cifar_images(cifar)
    tf = transforms.Compose([transforms.Resize(224), transforms.ToTensor(), transforms.Normalize(MEAN, STD)])
    x = torch.stack([tf(Image.fromarray(a)) for a in imgs])
    torch.manual_seed(0)
    model = torchvision.models.resnet18(num_classes=1000).eval()
    # The features of a randomly initialised ResNet barely differ between
    # images, so its arg-max would be one or two classes for all of them.
    # Centre the classifier on these images' mean feature (fc.bias =
    # -W·mean) so that the prediction depends on the image.
    with torch.no_grad():
        feat = torch.flatten(torch.nn.Sequential(*list(model.children())[:-1])(x), 1)
        model.fc.weight.mul_(10)
        model.fc.bias.copy_(-model.fc.weight @ feat.mean(0))
    path = os.path.join(out, "resnet18.onnx")
    torch.onnx.export(model, torch.zeros(1, 3, 224, 224), path, opset_version=13,
                      input_names=["x"], output_names=["y"], dynamic_axes={"x": {0: "n"}, "y": {0: "n"}})
    import onnx
    m = onnx.load(path)
    for k, v in {"ann2snn.scale": repr(1 / 255), "ann2snn.mean": "0.485,0.456,0.406",
                 "ann2snn.std": "0.229,0.224,0.225"}.items():
        p = m.metadata_props.add()
        p.key, p.value = k, v
    onnx.save(m, path)

    for i, a in enumerate(imgs):
        Image.fromarray(a).save(os.path.join(out, "images", "c", f"{i:03d}.png"))
        Image.fromarray(a).save(os.path.join(out, "images_jpg", "c", f"{i:03d}.jpg"), quality=90)
    with torch.no_grad():
        logits = model(x).numpy()
        np.save(os.path.join(out, "x.npy"), x.numpy())
        np.save(os.path.join(out, "y.npy"), logits.argmax(1).astype(np.int64))
        np.save(os.path.join(out, "torch_npy.npy"), logits)
        ftf = transforms.Compose([transforms.Resize(256), transforms.CenterCrop(224), transforms.ToTensor(),
                                  transforms.Normalize(MEAN, STD)])
        for folder, name in [("images", "folder"), ("images_jpg", "jpg")]:
            ds = datasets.ImageFolder(os.path.join(out, folder), transform=ftf)
            xf = torch.stack([ds[i][0] for i in range(len(ds))])
            np.save(os.path.join(out, f"torch_{name}.npy"), model(xf).numpy())
    print(f"wrote {out}: {N} images, {len(set(logits.argmax(1)))} distinct PyTorch classes")


def compare(out):
    for name in ["npy", "folder", "jpg"]:
        ref = np.load(os.path.join(out, f"torch_{name}.npy"))
        got = np.fromfile(os.path.join(out, f"{name}.logits"), "<f4").reshape(ref.shape)
        agree = (ref.argmax(1) == got.argmax(1)).mean()
        top2 = np.sort(ref, 1)[:, -2:]
        print(f"{name:6s}: top-1 agreement {100 * agree:.1f}% of {len(ref)}, max |logit diff| "
              f"{np.abs(ref - got).max():.2e} (logit scale {np.abs(ref).max():.2f}, smallest top-1 margin "
              f"{(top2[:, 1] - top2[:, 0]).min():.2e})")


if __name__ == "__main__":
    if sys.argv[1] == "prepare":
        prepare(sys.argv[2], sys.argv[3])
    else:
        compare(sys.argv[2])
