/**
 * Jupyter plumbing for the reproduce script: find the Python that has nbclient, check and register
 * the tslab kernel, execute a notebook headless (scripts/execute_notebook.py) and export HTML.
 */
import { spawn, spawnSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';

export const KERNEL_NAME = 'tslab';

/** Quiet Python: debugpy (loaded by ipykernel/jupyter_client) warns about frozen modules otherwise. */
const PY_ENV = { PYDEVD_DISABLE_FILE_VALIDATION: '1' };
const PY_FLAGS = ['-Xfrozen_modules=off'];

export interface Problem {
  what: string;
  fix: string;
  /** Fatal problems stop the run; others are warnings. */
  fatal: boolean;
}

function which(cmd: string): string | null {
  for (const dir of (process.env.PATH ?? '').split(path.delimiter)) {
    if (!dir) continue;
    const f = path.join(dir, cmd);
    try {
      fs.accessSync(f, fs.constants.X_OK);
      return f;
    } catch { /* not here */ }
  }
  return null;
}

function shebangPython(file: string | null): string | null {
  if (!file) return null;
  try {
    const first = fs.readFileSync(file, 'utf8').split('\n', 1)[0];
    const m = /^#!\s*(\S+)(?:\s+(\S+))?/.exec(first);
    if (!m) return null;
    return m[1].endsWith('/env') ? m[2] ?? null : m[1];
  } catch {
    return null;
  }
}

function pythonHas(py: string, modules: string[]): boolean {
  const r = spawnSync(py, [...PY_FLAGS, '-c', `import ${modules.join(', ')}`], { env: { ...process.env, ...PY_ENV }, stdio: 'ignore', timeout: 60000 });
  return r.status === 0;
}

/**
 * The Python interpreter Jupyter runs on (the one with nbclient): the interpreter named in the
 * `jupyter` launcher, else python3 on PATH, else /usr/bin/python3. A pyenv/conda python3 first on
 * PATH often lacks the Debian Jupyter packages, so the launcher's interpreter is tried first.
 */
export function findJupyterPython(): string | null {
  const candidates = [shebangPython(which('jupyter-nbconvert')), shebangPython(which('jupyter')), 'python3', '/usr/bin/python3'];
  for (const py of candidates) {
    if (py && pythonHas(py, ['nbclient', 'nbformat', 'jupyter_client'])) return py;
  }
  return null;
}

export function hasNbconvert(): boolean {
  const r = spawnSync('jupyter', ['nbconvert', '--version'], { env: { ...process.env, ...PY_ENV }, stdio: 'ignore', timeout: 60000 });
  return r.status === 0;
}

export interface KernelSpecInfo { dir: string; argv: string[] }

export function kernelSpec(python: string, name = KERNEL_NAME): KernelSpecInfo | null {
  const code = 'import json, sys\nfrom jupyter_client.kernelspec import KernelSpecManager\n' +
    'try:\n  s = KernelSpecManager().get_kernel_spec(sys.argv[1])\n  print(json.dumps({"dir": s.resource_dir, "argv": s.argv}))\n' +
    'except Exception:\n  print("null")\n';
  const r = spawnSync(python, [...PY_FLAGS, '-c', code, name], { env: { ...process.env, ...PY_ENV }, encoding: 'utf8', timeout: 60000 });
  if (r.status !== 0) return null;
  try {
    return JSON.parse(r.stdout.trim().split('\n').pop() ?? 'null');
  } catch {
    return null;
  }
}

function executable(f: string): boolean {
  try {
    fs.accessSync(f, fs.constants.X_OK);
    return true;
  } catch {
    return path.isAbsolute(f) ? false : which(f) !== null;
  }
}

/** The command that registers the kernel (idempotent: it overwrites the same spec). */
export function kernelInstallCommand(root: string, python: string): string[] {
  const tslab = path.join(root, 'node_modules', '.bin', 'tslab');
  return [tslab, 'install', `--python=${python}`, `--binary=${tslab}`, '--user'];
}

/**
 * Make sure the tslab kernel is registered with a launcher that exists. If not, register it for
 * the current user (~/.local/share/jupyter/kernels/tslab, also for root) with this checkout's
 * tslab. tslab's launcher switches to the tslab found from the notebook's folder, so one
 * registration serves any checkout.
 */
export function ensureKernel(root: string, python: string): { ok: boolean; action: 'present' | 'registered' | 'failed'; detail: string } {
  const spec = kernelSpec(python);
  if (spec && spec.argv.length > 0 && executable(spec.argv[0])) {
    return { ok: true, action: 'present', detail: `${spec.dir} (${spec.argv[0]})` };
  }
  const cmd = kernelInstallCommand(root, python);
  if (!fs.existsSync(cmd[0])) return { ok: false, action: 'failed', detail: `${cmd[0]} is missing` };
  const r = spawnSync(cmd[0], cmd.slice(1), { env: { ...process.env, ...PY_ENV }, encoding: 'utf8', timeout: 120000 });
  const after = kernelSpec(python);
  if (r.status === 0 && after && executable(after.argv[0])) return { ok: true, action: 'registered', detail: `${after.dir} (${after.argv[0]})` };
  return { ok: false, action: 'failed', detail: `${cmd.join(' ')} exited ${r.status}: ${(r.stderr || r.stdout || '').trim().split('\n').slice(-3).join(' / ')}` };
}

export interface ExecuteResult {
  ok: boolean;
  cells: number;
  seconds: number;
  failure: null | { cell: number | null; codeCell: number | null; source: string; error: string; kind: string };
}

/** Locate scripts/execute_notebook.py both from scripts/ (tsx) and build/scripts/ (compiled). */
export function driverPath(root: string): string {
  const f = path.join(root, 'scripts', 'execute_notebook.py');
  if (!fs.existsSync(f)) throw new Error(`${f} is missing: the checkout is incomplete.`);
  return f;
}

/**
 * Execute a notebook through the tslab kernel with the kernel's working directory set to the
 * notebook's folder, and write the executed (possibly partial) notebook to `output`.
 */
export function executeNotebook(o: {
  python: string; root: string; input: string; output: string; label: string;
  cellTimeoutSec: number; env: NodeJS.ProcessEnv; log: fs.WriteStream; echo?: (line: string) => void;
}): Promise<ExecuteResult> {
  fs.mkdirSync(path.dirname(o.output), { recursive: true });
  const args = [...PY_FLAGS, driverPath(o.root), o.input, o.output, '--kernel', KERNEL_NAME,
    '--timeout', String(o.cellTimeoutSec), '--label', o.label, '--cwd', path.dirname(path.resolve(o.input))];
  return new Promise((resolve) => {
    const child = spawn(o.python, args, { env: { ...o.env, ...PY_ENV }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let errBuf = '';
    child.stdout.on('data', (d: Buffer) => { stdout += d.toString(); });
    child.stderr.on('data', (d: Buffer) => {
      o.log.write(d);
      errBuf += d.toString();
      const lines = errBuf.split('\n');
      errBuf = lines.pop() ?? '';
      for (const l of lines) if (o.echo && l.trim()) o.echo(l);
    });
    child.on('error', (e) => resolve({ ok: false, cells: 0, seconds: 0, failure: { cell: null, codeCell: null, source: '', error: `could not start ${o.python}: ${e.message}`, kind: 'other' } }));
    child.on('close', (code) => {
      const last = stdout.trim().split('\n').pop() ?? '';
      try {
        const r = JSON.parse(last) as ExecuteResult;
        if (typeof r.ok === 'boolean') return resolve(r);
      } catch { /* fall through */ }
      resolve({ ok: false, cells: 0, seconds: 0, failure: { cell: null, codeCell: null, source: '', error: `the notebook runner exited ${code} without a result; see the log`, kind: 'other' } });
    });
  });
}

/** `jupyter nbconvert --to html --output-dir <dir> <notebook>`; returns the HTML path or throws. */
export function exportHtml(notebook: string, outDir: string): string {
  fs.mkdirSync(outDir, { recursive: true });
  const r = spawnSync('jupyter', ['nbconvert', '--to', 'html', '--output-dir', outDir, notebook], {
    env: { ...process.env, ...PY_ENV }, encoding: 'utf8', timeout: 300000, maxBuffer: 64 * 1024 * 1024,
  });
  const html = path.join(outDir, path.basename(notebook).replace(/\.ipynb$/, '.html'));
  if (r.status !== 0 || !fs.existsSync(html)) {
    throw new Error(`HTML export of ${notebook} failed (exit ${r.status}): ${(r.stderr || '').trim().split('\n').slice(-3).join(' / ')}`);
  }
  return html;
}
