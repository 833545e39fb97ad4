// Runs one ONNX model on one float32 input with onnxruntime (CPU) and
// writes its first output; used by gen_dynamo.py for expected outputs.
//
//   node ort_run.mjs MODEL.onnx IN.f32 '[2,3,8,8]' OUT.f32
//
// Prints the output's dims as JSON on stdout. onnxruntime-node comes from
// bench/node_modules (see bench/README.md).
import { readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const require = createRequire(join(here, '..', '..', 'bench', 'package.json'));
const ort = require('onnxruntime-node');

const [model, inPath, shapeJSON, outPath] = process.argv.slice(2);
const buf = readFileSync(inPath);
const x = new Float32Array(buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.length));
const session = await ort.InferenceSession.create(model, { intraOpNumThreads: 1, interOpNumThreads: 1 });
const feeds = { [session.inputNames[0]]: new ort.Tensor('float32', x, JSON.parse(shapeJSON)) };
const result = await session.run(feeds);
const y = result[session.outputNames[0]];
if (y.type !== 'float32') {
  throw new Error(`output type ${y.type}, want float32`);
}
writeFileSync(outPath, Buffer.from(y.data.buffer, y.data.byteOffset, y.data.byteLength));
console.log(JSON.stringify(y.dims));
