/**
 * safetensors (https://huggingface.co/docs/safetensors) reader/writer: 8-byte little-endian header
 * length, a JSON header {name: {dtype, shape, data_offsets: [begin, end]}}, then the raw
 * little-endian row-major bytes. Readable by numpy/PyTorch (`safetensors.numpy.load_file`).
 */
export type StDtype = 'F32' | 'I32' | 'U8';
export interface StTensor { name: string; dtype: StDtype; shape: number[]; data: Float32Array | Int32Array | Uint8Array }

const BYTES: Record<StDtype, number> = { F32: 4, I32: 4, U8: 1 };

export function writeSafetensors(tensors: StTensor[], metadata?: Record<string, string>): Uint8Array {
  const header: Record<string, unknown> = {};
  if (metadata) header.__metadata__ = metadata;
  let offset = 0;
  for (const t of tensors) {
    const n = t.shape.reduce((a, b) => a * b, 1);
    if (t.data.length !== n) throw new Error(`safetensors: ${t.name} has ${t.data.length} values for shape [${t.shape}].`);
    const bytes = n * BYTES[t.dtype];
    header[t.name] = { dtype: t.dtype, shape: t.shape, data_offsets: [offset, offset + bytes] };
    offset += bytes;
  }
  let json = JSON.stringify(header);
  while ((8 + json.length) % 8 !== 0) json += ' '; // keep the data 8-byte aligned
  const hb = Buffer.from(json, 'utf8');
  const out = new Uint8Array(8 + hb.length + offset);
  new DataView(out.buffer).setBigUint64(0, BigInt(hb.length), true);
  out.set(hb, 8);
  let pos = 8 + hb.length;
  for (const t of tensors) {
    const b = new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength);
    out.set(b, pos);
    pos += b.length;
  }
  return out;
}

export function readSafetensors(buf: Uint8Array, where = 'buffer'): StTensor[] {
  if (buf.length < 8) throw new Error(`${where}: not a safetensors file (shorter than 8 bytes).`);
  const n = Number(new DataView(buf.buffer, buf.byteOffset, 8).getBigUint64(0, true));
  if (n <= 0 || 8 + n > buf.length) throw new Error(`${where}: corrupt safetensors header length ${n} (file has ${buf.length} bytes).`);
  let header: Record<string, { dtype: StDtype; shape: number[]; data_offsets: [number, number] }>;
  try {
    header = JSON.parse(Buffer.from(buf.subarray(8, 8 + n)).toString('utf8'));
  } catch (e) {
    throw new Error(`${where}: corrupt safetensors JSON header (${(e as Error).message}).`);
  }
  const base = 8 + n;
  const out: StTensor[] = [];
  for (const [name, h] of Object.entries(header)) {
    if (name === '__metadata__') continue;
    if (!(h.dtype in BYTES)) throw new Error(`${where}: tensor ${name} has unsupported dtype ${h.dtype} (supported: F32, I32, U8).`);
    const [b, e] = h.data_offsets;
    if (base + e > buf.length || b > e) throw new Error(`${where}: tensor ${name} points outside the file (truncated?).`);
    const bytes = Uint8Array.prototype.slice.call(buf, base + b, base + e); // a real copy (Buffer#slice is a view): aligned, owned
    const data = h.dtype === 'F32' ? new Float32Array(bytes.buffer) : h.dtype === 'I32' ? new Int32Array(bytes.buffer) : new Uint8Array(bytes.buffer);
    out.push({ name, dtype: h.dtype, shape: h.shape, data });
  }
  return out;
}
