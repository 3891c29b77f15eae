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
  const raw = Buffer.from(JSON.stringify(header), 'utf8');
  // pad the header in bytes (not characters: non-ASCII metadata is multi-byte) so the data stays 8-byte aligned
  const hb = Buffer.concat([raw, Buffer.alloc((8 - ((8 + raw.length) % 8)) % 8, 0x20)]);
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

/** Largest header accepted (the reference implementation's limit): a corrupt length fails fast. */
export const MAX_HEADER_BYTES = 100_000_000;

/**
 * Read a safetensors buffer, validating it as the format specifies: header length within the file,
 * a JSON object header, `__metadata__` a string-to-string map, every tensor exactly
 * {dtype, shape, data_offsets} with a supported dtype, a shape of non-negative integers and offsets
 * that match dtype x shape, and the tensors tiling the data section with no gap, overlap or tail.
 */
export function readSafetensors(buf: Uint8Array, where = 'buffer'): StTensor[] {
  const bad = (what: string): never => { throw new Error(`${where}: not a valid safetensors file: ${what}.`); };
  if (buf.length < 8) bad(`shorter than 8 bytes (${buf.length})`);
  const n64 = new DataView(buf.buffer, buf.byteOffset, 8).getBigUint64(0, true);
  if (n64 === 0n || n64 > BigInt(Math.min(MAX_HEADER_BYTES, buf.length - 8))) bad(`header length ${n64} does not fit the file's ${buf.length} bytes`);
  const n = Number(n64);
  let header: unknown;
  try {
    header = JSON.parse(Buffer.from(buf.subarray(8, 8 + n)).toString('utf8'));
  } catch (e) {
    bad(`the JSON header does not parse (${(e as Error).message})`);
  }
  if (header === null || typeof header !== 'object' || Array.isArray(header)) bad('the header is not a JSON object');
  const entries = Object.entries(header as Record<string, unknown>);
  const meta = (header as Record<string, unknown>).__metadata__;
  if (meta !== undefined && (meta === null || typeof meta !== 'object' || Array.isArray(meta) || Object.values(meta).some((v) => typeof v !== 'string'))) {
    bad('__metadata__ must map strings to strings');
  }
  const base = 8 + n;
  const spans: Array<{ name: string; b: number; e: number; t: StTensor | null }> = [];
  for (const [name, h] of entries) {
    if (name === '__metadata__') continue;
    if (h === null || typeof h !== 'object' || Array.isArray(h)) bad(`tensor ${name} is not an object`);
    const o = h as Record<string, unknown>;
    const extra = Object.keys(o).filter((k) => !['dtype', 'shape', 'data_offsets'].includes(k));
    if (extra.length) bad(`tensor ${name} has unknown field(s) ${extra.join(', ')}`);
    if (typeof o.dtype !== 'string' || !(o.dtype in BYTES)) bad(`tensor ${name} has unsupported dtype ${JSON.stringify(o.dtype)} (supported: F32, I32, U8)`);
    const dtype = o.dtype as StDtype;
    if (!Array.isArray(o.shape) || o.shape.some((d) => !Number.isSafeInteger(d) || d < 0)) bad(`tensor ${name} has shape ${JSON.stringify(o.shape)}, not a list of non-negative integers`);
    const shape = o.shape as number[];
    const off = o.data_offsets;
    if (!Array.isArray(off) || off.length !== 2 || off.some((x) => !Number.isSafeInteger(x) || x < 0) || off[0] > off[1]) {
      bad(`tensor ${name} has data_offsets ${JSON.stringify(off)}, not [begin, end] with 0 <= begin <= end`);
    }
    const [b, e] = off as number[];
    const bytes = shape.reduce((a, d) => a * d, 1) * BYTES[dtype];
    if (e - b !== bytes) bad(`tensor ${name} (${dtype} [${shape}]) needs ${bytes} bytes, its offsets span ${e - b}`);
    if (base + e > buf.length) bad(`tensor ${name} ends at byte ${base + e}, past the end of the file (${buf.length}); truncated?`);
    const copy = Uint8Array.prototype.slice.call(buf, base + b, base + e); // a real copy (Buffer#slice is a view): aligned, owned
    const data = dtype === 'F32' ? new Float32Array(copy.buffer) : dtype === 'I32' ? new Int32Array(copy.buffer) : new Uint8Array(copy.buffer);
    spans.push({ name, b, e, t: { name, dtype, shape, data } });
  }
  spans.sort((x, y) => x.b - y.b || x.e - y.e);
  let at = 0;
  for (const sp of spans) {
    if (sp.b !== at) bad(sp.b < at ? `tensor ${sp.name} overlaps the previous one (starts at ${sp.b}, previous ends at ${at})` : `a gap of ${sp.b - at} bytes before tensor ${sp.name}`);
    at = sp.e;
  }
  if (base + at !== buf.length) bad(`${buf.length - base - at} bytes after the last tensor`);
  const order = new Map(entries.map(([k], i) => [k, i]));
  return spans.sort((x, y) => order.get(x.name)! - order.get(y.name)!).map((sp) => sp.t!);
}
