/** Small file-system helpers shared by the library. */
import * as fs from 'fs';
import * as path from 'path';

/** Write a file atomically: temp file in the same directory, fsync, rename. No temp file survives a failure. */
export function writeFileAtomic(file: string, data: string | Uint8Array): void {
  fs.mkdirSync(path.dirname(path.resolve(file)), { recursive: true });
  const tmp = `${file}.tmp-${process.pid}-${Date.now()}-${Math.random().toString(36).slice(2, 8)}`;
  try {
    const fd = fs.openSync(tmp, 'w');
    try {
      fs.writeSync(fd, typeof data === 'string' ? Buffer.from(data) : data);
      fs.fsyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
    fs.renameSync(tmp, file);
  } catch (e) {
    try { fs.unlinkSync(tmp); } catch { /* never created, or renamed */ }
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'EISDIR' || code === 'ENOTEMPTY' || code === 'EEXIST') throw new Error(`Cannot write ${file}: a folder is in the way; move it away.`);
    throw e;
  }
}

/**
 * Check, before any compute, that folder `dir` can receive the files `names`: it is (or can be
 * created as) a writable folder, no name is taken by a non-file, and (unless `force`) none of
 * `names` exists already, so a second run never mixes its files with an earlier run's. Returns
 * the names that exist (replaced when `force`).
 */
export function prepareOutputDir(dir: string, names: readonly string[], o: { force?: boolean; flag?: string } = {}): string[] {
  const flag = o.flag ?? 'output folder';
  let st: fs.Stats | undefined;
  try { st = fs.statSync(dir); } catch (e) { if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e; }
  if (st && !st.isDirectory()) throw new OutputDirError(`${flag} ${dir} is a file, not a folder: choose a folder path.`);
  try { fs.mkdirSync(dir, { recursive: true }); } catch (e) {
    throw new OutputDirError(`${flag} ${dir} cannot be created (${(e as NodeJS.ErrnoException).code}): choose a folder you can write to.`);
  }
  const present: string[] = [];
  for (const n of names) {
    const p = path.join(dir, n);
    let s: fs.Stats;
    try { s = fs.lstatSync(p); } catch { continue; }
    if (!s.isFile()) throw new OutputDirError(`${p} is in the way (not a regular file): move it away, or choose another ${flag}.`);
    present.push(n);
  }
  if (present.length && !o.force) {
    throw new OutputDirError(`${flag} ${dir} already holds ${present.join(', ')} from an earlier run: choose an empty folder, or pass --force to replace them.`);
  }
  const probe = path.join(dir, `.write-probe-${process.pid}-${Math.random().toString(36).slice(2, 8)}`);
  try { fs.writeFileSync(probe, 'probe'); } catch (e) {
    throw new OutputDirError(`${flag} ${dir} is not writable (${(e as NodeJS.ErrnoException).code}): choose a folder you can write to.`);
  } finally {
    try { fs.unlinkSync(probe); } catch { /* not created */ }
  }
  return present;
}

/** An output folder that cannot take a run's files (a usage problem: nothing was computed). */
export class OutputDirError extends Error {
  constructor(message: string) { super(message); this.name = 'OutputDirError'; }
}
