#!/usr/bin/env node
// ort_logits.mjs: onnxruntime (CPU) logits of ONNX models on images from an
// .npy file, as the reference for ann2snn's ANN executor.
//
//   node bench/torchvision/ort_logits.mjs X.npy MODEL.onnx OUT.f32 [MODEL2.onnx OUT2.f32 ...]
//        [--batch 8] [--threads 1]
//
// X.npy: float32, C order, shape [N, ...]; its values are fed as given (no
// scaling, no normalisation). Each model's first input gets batches of
// --batch images (the last may be smaller); the first output is written as
// raw little-endian float32, images x classes, row-major (the layout of
// `ann2snn eval --logits`), atomically (temporary file + rename). One JSON
// line per model on stdout: {"model","out","images","classes","seconds"}.
// Failures print {"model","error"} and the script goes on to the next
// model; the exit status is 1 if any model failed.
// Session: CPU execution provider, intraOpNumThreads = --threads,
// interOpNumThreads = 1, sequential, graph optimisation "all".

import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { performance } from 'node:perf_hooks';

// onnxruntime-node lives in bench/node_modules, one level up.
const require = createRequire(new URL('../package.json', import.meta.url));
const ort = require('onnxruntime-node');

function usage(msg) {
  if (msg) console.error(`ort_logits: ${msg}`);
  console.error('usage: node bench/torchvision/ort_logits.mjs X.npy MODEL.onnx OUT.f32 [MODEL OUT ...] [--batch 8] [--threads 1]');
  process.exit(2);
}

// readNPY returns {shape, data: Float32Array} for a little-endian float32
// C-order .npy file (versions 1.0 to 3.0).
function readNPY(path) {
  const b = readFileSync(path);
  if (b.length < 10 || b.toString('latin1', 0, 6) !== '\x93NUMPY') throw new Error(`${path}: not an .npy file`);
  const major = b[6];
  let hlen, off;
  if (major === 1) { hlen = b.readUInt16LE(8); off = 10; } else { hlen = b.readUInt32LE(8); off = 12; }
  const h = b.toString('latin1', off, off + hlen);
  const descr = /'descr':\s*'([^']*)'/.exec(h)?.[1];
  const fortran = /'fortran_order':\s*(True|False)/.exec(h)?.[1];
  const shapeS = /'shape':\s*\(([^)]*)\)/.exec(h)?.[1];
  if (descr !== '<f4') throw new Error(`${path}: dtype ${descr}, want <f4 (float32)`);
  if (fortran !== 'False') throw new Error(`${path}: want C order`);
  const shape = shapeS.split(',').map((s) => s.trim()).filter((s) => s !== '').map(Number);
  const start = off + hlen;
  const n = shape.reduce((x, y) => x * y, 1);
  if (b.length - start !== 4 * n) throw new Error(`${path}: ${b.length - start} data bytes, shape ${shape} wants ${4 * n}`);
  const data = new Float32Array(n);
  for (let i = 0; i < n; i++) data[i] = b.readFloatLE(start + 4 * i);
  return { shape, data };
}

async function logits(x, model, out, o) {
  const t0 = performance.now();
  const sess = await ort.InferenceSession.create(model, {
    executionProviders: ['cpu'], intraOpNumThreads: o.threads, interOpNumThreads: 1,
    executionMode: 'sequential', graphOptimizationLevel: 'all',
  });
  const n = x.shape[0], per = x.data.length / n;
  const parts = [];
  let classes = -1;
  for (let i = 0; i < n; i += o.batch) {
    const m = Math.min(o.batch, n - i);
    const t = new ort.Tensor('float32', x.data.subarray(i * per, (i + m) * per), [m, ...x.shape.slice(1)]);
    const r = await sess.run({ [sess.inputNames[0]]: t });
    const y = r[sess.outputNames[0]];
    if (y.type !== 'float32') throw new Error(`output ${sess.outputNames[0]} has type ${y.type}`);
    const c = y.data.length / m;
    if (classes >= 0 && c !== classes) throw new Error(`batch at ${i}: ${c} values per image, earlier ${classes}`);
    classes = c;
    parts.push(Float32Array.from(y.data));
  }
  const all = new Float32Array(n * classes);
  let p = 0;
  for (const a of parts) { all.set(a, p); p += a.length; }
  const buf = Buffer.alloc(all.length * 4);
  for (let i = 0; i < all.length; i++) buf.writeFloatLE(all[i], 4 * i);
  writeFileSync(out + '.tmp', buf);
  renameSync(out + '.tmp', out);
  await sess.release?.();
  return { model, out, images: n, classes, seconds: +((performance.now() - t0) / 1000).toFixed(2) };
}

async function main() {
  const o = { batch: 8, threads: 1 };
  const pos = [];
  const argv = process.argv.slice(2);
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (!a.startsWith('--')) { pos.push(a); continue; }
    let [k, v] = a.slice(2).split(/=(.*)/s);
    if (v === undefined) {
      if (i + 1 >= argv.length) usage(`flag --${k} needs a value`);
      v = argv[++i];
    }
    if (k !== 'batch' && k !== 'threads') usage(`unknown flag --${k}`);
    const n = Number(v);
    if (!Number.isInteger(n) || n < 1) usage(`--${k}: bad value ${v}`);
    o[k] = n;
  }
  if (pos.length < 3 || pos.length % 2 !== 1) usage('want X.npy and one or more MODEL.onnx OUT.f32 pairs');
  const x = readNPY(pos[0]);
  let failed = false;
  for (let i = 1; i < pos.length; i += 2) {
    try {
      console.log(JSON.stringify(await logits(x, pos[i], pos[i + 1], o)));
    } catch (e) {
      failed = true;
      console.log(JSON.stringify({ model: pos[i], error: String(e?.message ?? e).split('\n')[0] }));
    }
  }
  process.exit(failed ? 1 : 0);
}

main().catch((e) => { console.error(`ort_logits: ${e?.stack ?? e}`); process.exit(1); });
