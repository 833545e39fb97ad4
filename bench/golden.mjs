#!/usr/bin/env node
// golden.mjs: onnxruntime's logits on the first test images of every
// reference model, written as test data for ann2snn's ANN executor.
//
//   node bench/golden.mjs [--shared DIR] [--out DIR] [--images 32]
//
// Models: every *.onnx in DIR/models (default: ../shared relative to the
// repository root, or $ANN2SNN_SHARED_DIR) and in models/ of this
// repository. For each model M it runs bench/ort_bench.mjs on the first
// --images test images (one batch, one thread) and writes, in --out
// (default importer/testdata/golden):
//
//   PREFIX_M.f32   the logits, little-endian float32, images x classes
//   PREFIX_M.json  {model, sha256, data, images, classes, preprocess
//                  {scale, mean, std}, accuracy, runtime}
//
// where PREFIX is "shared" or "models". Preprocessing is
// x = (pixel*scale - mean[c]) / std[c]: the model's ann2snn.* metadata
// (models/README.md), else the defaults of ../shared/models/README.md
// (MNIST: pixels/255; CIFAR-10: /255 then mean 0.4914,0.4822,0.4465 and
// std 0.2470,0.2435,0.2616), which ort_bench.mjs applies and reports.
// The data set comes from the ann2snn.dataset metadata, else the file name
// (mnist, fashion_mnist or cifar10). CIFAR-10 is read from
// SHARED/datasets/cifar10, MNIST and Fashion-MNIST where ort_bench.mjs
// finds them. Run once after a model changes and commit the output.

import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { basename, dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '..');

function parseArgs(argv) {
  const o = {
    shared: process.env.ANN2SNN_SHARED_DIR || join(REPO, '..', 'shared'),
    out: join(REPO, 'importer', 'testdata', 'golden'),
    images: 32,
  };
  for (let i = 0; i < argv.length; i++) {
    const k = argv[i].replace(/^--/, '');
    if (!(k in o) || i + 1 >= argv.length) {
      console.error('usage: node bench/golden.mjs [--shared DIR] [--out DIR] [--images 32]');
      process.exit(2);
    }
    o[k] = argv[++i];
  }
  o.images = Number(o.images);
  if (!Number.isInteger(o.images) || o.images < 1) throw new Error(`--images ${o.images}: want a positive integer`);
  return o;
}

function onnxFiles(dir) {
  if (!existsSync(dir)) throw new Error(`${dir}: no such directory`);
  return readdirSync(dir).filter((n) => n.endsWith('.onnx')).sort().map((n) => join(dir, n));
}

// dataOf names the test set of a model: its metadata, else its file name.
function dataOf(path, meta, shared) {
  let d = meta['ann2snn.dataset'];
  if (!d) {
    const n = basename(path);
    if (n.includes('fashion_mnist')) d = 'fashion-mnist';
    else if (n.includes('mnist')) d = 'mnist';
    else if (n.includes('cifar10')) d = 'cifar10';
    else throw new Error(`${path}: no ann2snn.dataset metadata and no data set in the file name`);
  }
  return d === 'cifar10' ? `cifar10:${join(shared, 'datasets', 'cifar10')}` : d;
}

function main() {
  const o = parseArgs(process.argv.slice(2));
  mkdirSync(o.out, { recursive: true });
  const ort = join(REPO, 'bench', 'ort_bench.mjs');
  const sets = [['shared', join(o.shared, 'models')], ['models', join(REPO, 'models')]];
  for (const [prefix, dir] of sets) {
    for (const path of onnxFiles(dir)) {
      const meta = JSON.parse(execFileSync('node', [ort, '--meta', path], { encoding: 'utf8' }));
      const data = dataOf(path, meta, o.shared);
      const name = `${prefix}_${basename(path, '.onnx')}`;
      const f32 = join(o.out, `${name}.f32`);
      const line = execFileSync('node', [ort, path, '--data', data, '--images', String(o.images),
        '--batch', String(o.images), '--threads', '1', '--warmup', '0', '--logits', f32], { encoding: 'utf8' });
      const r = JSON.parse(line.trim().split('\n').pop());
      const bytes = readFileSync(f32).length;
      const classes = bytes / 4 / r.images;
      if (r.images !== o.images || !Number.isInteger(classes)) {
        throw new Error(`${path}: ${r.images} images, ${bytes} bytes of logits`);
      }
      const header = {
        model: `${prefix}/${basename(path)}`,
        sha256: createHash('sha256').update(readFileSync(path)).digest('hex'),
        data: data.startsWith('cifar10:') ? 'cifar10' : data,
        images: r.images,
        classes,
        preprocess: r.preprocess,
        accuracy: r.accuracy,
        runtime: r.runtime,
      };
      writeFileSync(join(o.out, `${name}.json`), JSON.stringify(header, null, 1) + '\n');
      console.log(`${relative(REPO, f32)}: ${r.images}x${classes}, accuracy ${r.accuracy}, ${r.runtime}`);
    }
  }
}

main();
