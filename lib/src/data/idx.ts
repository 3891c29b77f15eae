/**
 * IDX file reader (the MNIST / Fashion-MNIST format, http://yann.lecun.com/exdb/mnist/):
 * magic = 0x0000 | dtype byte | ndim byte, then ndim big-endian uint32 sizes, then the data
 * (big-endian for multi-byte types). Gzip is detected from the content (1f 8b), not the name.
 */
import * as fs from 'fs';
import * as zlib from 'zlib';

export const IDX_DTYPES = {
  0x08: 'uint8', 0x09: 'int8', 0x0b: 'int16', 0x0c: 'int32', 0x0d: 'float32', 0x0e: 'float64',
} as const;
export type IdxDtype = (typeof IDX_DTYPES)[keyof typeof IDX_DTYPES];
const BYTES: Record<IdxDtype, number> = { uint8: 1, int8: 1, int16: 2, int32: 4, float32: 4, float64: 8 };

export type IdxData = Uint8Array | Int8Array | Int16Array | Int32Array | Float32Array | Float64Array;
export interface IdxArray { dtype: IdxDtype; dims: number[]; data: IdxData }

export interface IdxExpect {
  /** Required dtype byte, e.g. 0x08 for unsigned bytes. */
  dtypeCode?: number;
  /** Required number of dimensions. */
  ndim?: number;
  /** What the file should hold, used in messages ("images", "labels"). */
  role?: string;
  /** How to get a correct file; appended to every error. */
  hint?: string;
}

const hex = (v: number) => '0x' + (v >>> 0).toString(16).padStart(8, '0');

/** Decode an IDX byte buffer (already gunzipped). `where` names the source in errors. */
export function parseIdx(buf: Uint8Array, where: string, expect: IdxExpect = {}): IdxArray {
  const tail = expect.hint ? ` ${expect.hint}` : '';
  const role = expect.role ? ` for ${expect.role}` : '';
  const wantMagic = expect.dtypeCode !== undefined && expect.ndim !== undefined
    ? (expect.dtypeCode << 8) | expect.ndim : undefined;
  const want = wantMagic !== undefined ? `IDX magic ${hex(wantMagic)}${role}` : `an IDX header${role}`;
  if (buf.length < 4) throw new Error(`${where}: file is ${buf.length} bytes, too short to hold ${want}.${tail}`);
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const magic = view.getUint32(0, false);
  const code = (magic >>> 8) & 0xff, ndim = magic & 0xff;
  const dtype = (IDX_DTYPES as Record<number, IdxDtype | undefined>)[code];
  if ((magic >>> 16) !== 0 || !dtype || ndim === 0) {
    throw new Error(`${where}: expected ${want}, got ${hex(magic)} (not an IDX file).${tail}`);
  }
  if (wantMagic !== undefined && magic !== wantMagic) {
    throw new Error(`${where}: expected ${want}, got ${hex(magic)} (${dtype}, ${ndim} dims).${tail}`);
  }
  const headerBytes = 4 + 4 * ndim;
  if (buf.length < headerBytes) {
    throw new Error(`${where}: truncated header: ${ndim} dims need ${headerBytes} bytes, file has ${buf.length}.${tail}`);
  }
  const dims: number[] = [];
  for (let i = 0; i < ndim; i++) dims.push(view.getUint32(4 + 4 * i, false));
  const count = dims.reduce((a, b) => a * b, 1);
  const dataBytes = count * BYTES[dtype];
  const have = buf.length - headerBytes;
  if (have !== dataBytes) {
    throw new Error(`${where}: ${have < dataBytes ? 'truncated' : 'trailing bytes'}: dims [${dims.join(', ')}] of ${dtype} ` +
      `need ${dataBytes} data bytes after the ${headerBytes}-byte header, file has ${have}.${tail}`);
  }
  return { dtype, dims, data: decode(view, headerBytes, count, dtype) };
}

function decode(view: DataView, off: number, n: number, dtype: IdxDtype): IdxData {
  // Bytes are copied (not viewed) so the result does not pin a larger gunzip buffer.
  if (dtype === 'uint8') return new Uint8Array(view.buffer.slice(view.byteOffset + off, view.byteOffset + off + n));
  if (dtype === 'int8') return new Int8Array(view.buffer.slice(view.byteOffset + off, view.byteOffset + off + n));
  const out = dtype === 'int16' ? new Int16Array(n) : dtype === 'int32' ? new Int32Array(n)
    : dtype === 'float32' ? new Float32Array(n) : new Float64Array(n);
  const step = BYTES[dtype];
  for (let i = 0, p = off; i < n; i++, p += step) {
    out[i] = dtype === 'int16' ? view.getInt16(p, false) : dtype === 'int32' ? view.getInt32(p, false)
      : dtype === 'float32' ? view.getFloat32(p, false) : view.getFloat64(p, false);
  }
  return out;
}

/** Read an IDX file, gzipped or plain. Errors name the path, what was expected and `expect.hint`. */
export function readIdx(path: string, expect: IdxExpect = {}): IdxArray {
  const tail = expect.hint ? ` ${expect.hint}` : '';
  let raw: Buffer;
  try {
    raw = fs.readFileSync(path);
  } catch (e) {
    throw new Error(`Cannot read IDX file ${path}${expect.role ? ` (${expect.role})` : ''}: ${(e as Error).message}.${tail}`);
  }
  let buf: Uint8Array = raw;
  if (raw.length >= 2 && raw[0] === 0x1f && raw[1] === 0x8b) {
    try {
      buf = zlib.gunzipSync(raw);
    } catch (e) {
      throw new Error(`${path}: corrupt gzip data (${(e as Error).message}); expected a gzipped IDX file` +
        `${expect.role ? ` of ${expect.role}` : ''}.${tail}`);
    }
  }
  return parseIdx(buf, path, expect);
}
