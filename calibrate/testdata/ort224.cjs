// node calibrate/testdata/ort224.cjs MODEL.onnx X.npy THREADS BATCH REPEAT
// Times onnxruntime CPU on a float32 NCHW .npy (used as given), as
// bench/ort_bench.mjs does for MNIST/CIFAR-10; prints one JSON line with the
// best of REPEAT passes (docs/methods.md, "Large inputs").
const ort = require(require("path").join(__dirname, "..", "..", "bench", "node_modules", "onnxruntime-node"));
const fs = require('fs');
(async () => {
  const [model, npy, threads, batch, repeat] = process.argv.slice(2);
  const buf = fs.readFileSync(npy);
  const hlen = buf.readUInt16LE(8);
  const header = buf.slice(10, 10 + hlen).toString();
  const shape = header.match(/shape': \(([^)]*)\)/)[1].split(',').filter((s) => s.trim()).map(Number);
  const data = new Float32Array(buf.buffer.slice(buf.byteOffset + 10 + hlen));
  const [n, c, h, w] = shape, per = c * h * w, B = +batch;
  const s = await ort.InferenceSession.create(model, { executionProviders: ['cpu'], intraOpNumThreads: +threads, interOpNumThreads: 1, executionMode: 'sequential', graphOptimizationLevel: 'all' });
  const run = (st, k) => s.run({ [s.inputNames[0]]: new ort.Tensor('float32', data.subarray(st * per, (st + k) * per), [k, c, h, w]) });
  await run(0, Math.min(B, n));
  const passes = [];
  for (let r = 0; r < +repeat; r++) {
    const t0 = performance.now();
    for (let st = 0; st < n; st += B) await run(st, Math.min(B, n - st));
    passes.push((performance.now() - t0) / 1000);
  }
  const sec = Math.min(...passes);
  console.log(JSON.stringify({ runtime: 'onnxruntime', threads: +threads, images: n, images_per_s: +(n / sec).toFixed(2), passes_s: passes.map((p) => +p.toFixed(2)) }));
})();
