import { strict as assert } from 'assert';
import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { readSafetensors, writeSafetensors, StTensor } from 'prune-at-init';

/** A safetensors file assembled by hand from a header object and raw data bytes. */
function assemble(header: unknown, data: Uint8Array, padTo8 = true): Uint8Array {
  let hb = Buffer.from(JSON.stringify(header), 'utf8');
  if (padTo8) hb = Buffer.concat([hb, Buffer.alloc((8 - ((8 + hb.length) % 8)) % 8, 0x20)]);
  const len = Buffer.alloc(8);
  len.writeBigUInt64LE(BigInt(hb.length));
  return Buffer.concat([len, hb, Buffer.from(data)]);
}

describe('safetensors (issue 14 defect 8)', () => {
  const tensors: StTensor[] = [
    { name: 'w', dtype: 'F32', shape: [2, 3], data: Float32Array.from([1.5, -2, 3.25, 0, 1e-3, 7]) },
    { name: 'm', dtype: 'U8', shape: [3], data: Uint8Array.from([1, 0, 1]) },
    { name: 'i', dtype: 'I32', shape: [2], data: Int32Array.from([-5, 123456]) },
  ];

  it('non-ASCII metadata: the header is padded in bytes, the data stays 8-byte aligned and numpy reads it', () => {
    const meta = { note: 'σ_w = 1.3 – café ✓', model: 'ffnn' };
    const buf = writeSafetensors(tensors, meta);
    const n = Number(Buffer.from(buf).readBigUInt64LE(0));
    assert.equal((8 + n) % 8, 0);
    const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'st-')), 'x.safetensors');
    fs.writeFileSync(file, buf);
    const py = `
import json, struct, sys
import numpy as np
buf = open(sys.argv[1], 'rb').read()
(n,) = struct.unpack('<Q', buf[:8])
h = json.loads(buf[8:8 + n].decode('utf8'))
b, e = h['w']['data_offsets']
print(json.dumps({'meta': h['__metadata__'], 'w': np.frombuffer(buf[8 + n + b:8 + n + e], dtype='<f4').tolist(), 'aligned': (8 + n) % 8 == 0}))`;
    const out = JSON.parse(execFileSync('python3', ['-c', py, file]).toString());
    fs.rmSync(path.dirname(file), { recursive: true });
    assert.deepEqual(out.meta, meta);
    assert.deepEqual(out.w, Array.from(tensors[0].data));
    assert.equal(out.aligned, true);
    const back = readSafetensors(buf);
    assert.deepEqual(back.map((t) => [t.name, t.dtype, t.shape, Array.from(t.data)]), tensors.map((t) => [t.name, t.dtype, t.shape, Array.from(t.data)]));
  });

  it('the reader rejects malformed files with a message naming the problem', () => {
    const data = new Uint8Array(8);
    const ok = { a: { dtype: 'F32', shape: [2], data_offsets: [0, 8] } };
    assert.equal(readSafetensors(assemble(ok, data)).length, 1);
    const cases: Array<[Uint8Array, RegExp]> = [
      [new Uint8Array(4), /shorter than 8 bytes/],
      [(() => { const b = Buffer.from(assemble(ok, data)); b.writeBigUInt64LE(10n ** 12n); return b; })(), /header length 1000000000000 does not fit/],
      [assemble([1, 2], data), /the header is not a JSON object/],
      [(() => { const b = Buffer.from(assemble(ok, data)); b[9] = 0x7b; b[10] = 0x7b; return b; })(), /JSON header does not parse/],
      [assemble({ a: { dtype: 'F64', shape: [1], data_offsets: [0, 8] } }, data), /unsupported dtype "F64"/],
      [assemble({ a: { dtype: 'F32', shape: [-2], data_offsets: [0, 8] } }, data), /shape \[-2\], not a list of non-negative integers/],
      [assemble({ a: { dtype: 'F32', shape: [3], data_offsets: [0, 8] } }, data), /needs 12 bytes, its offsets span 8/],
      [assemble({ a: { dtype: 'F32', shape: [2], data_offsets: [8, 0] } }, data), /data_offsets \[8,0\]/],
      [assemble({ a: { dtype: 'F32', shape: [2], data_offsets: [0, 8], extra: 1 } }, data), /unknown field\(s\) extra/],
      [assemble({ a: { dtype: 'U8', shape: [4], data_offsets: [4, 8] } }, data), /a gap of 4 bytes before tensor a/],
      [assemble({ a: { dtype: 'U8', shape: [6], data_offsets: [0, 6] }, b: { dtype: 'U8', shape: [4], data_offsets: [4, 8] } }, data), /tensor b overlaps/],
      [assemble({ a: { dtype: 'U8', shape: [4], data_offsets: [0, 4] } }, data), /4 bytes after the last tensor/],
      [assemble({ a: { dtype: 'F32', shape: [4], data_offsets: [0, 16] } }, data), /past the end of the file .*truncated/],
      [assemble({ __metadata__: { n: 1 }, ...ok }, data), /__metadata__ must map strings to strings/],
    ];
    for (const [buf, re] of cases) assert.throws(() => readSafetensors(buf, 'f.safetensors'), (e: Error) => /^f\.safetensors: not a valid safetensors file: /.test(e.message) && re.test(e.message));
  });
});
