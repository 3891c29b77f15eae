/**
 * npm run reproduce [-- --budget smoke|quick|standard|paper --seeds 0,1,2 --only 01,03 --write-back]
 *
 * Checks prerequisites (and says how to fix them), executes every notebook in notebooks/ headless
 * through the tslab kernel, writes executed notebooks to out/notebooks/, HTML exports to out/html/,
 * figures to out/figures/ (by the notebooks), and regenerates the report from out/claims/*.json.
 * --write-back stores the claims files under notebooks/runs/<budget>/claims/, copies the executed
 * notebooks into notebooks/ and their figures into notebooks/figures/ (only from the `standard`
 * budget, or while no standard-budget claims are committed for that notebook: the committed
 * notebooks show the faithful run), and writes REPRODUCE.md at the project root from the committed
 * claims: the standard budget's verdicts, with the quick budget's beside them.
 * A failing notebook is reported (cell and error) and makes the exit code 1; the others still run.
 */
import * as fs from 'fs';
import * as path from 'path';
import type * as Pai from 'prune-at-init';
import { ensureKernel, executeNotebook, exportHtml, findJupyterPython, hasNbconvert, kernelInstallCommand, Problem } from './jupyter';

type Lib = typeof Pai;
type Budget = Pai.Budget;

export interface ReproduceOptions {
  /** Project root (default: found from this file). */
  root?: string;
  notebooksDir?: string;
  outDir?: string;
  budget?: Budget;
  /** Default: each notebook's own seeds for the budget. */
  seeds?: number[];
  /** File-name prefixes, e.g. ['01', '03']. */
  only?: string[];
  writeBack?: boolean;
  /** Where --write-back puts REPRODUCE.md (default <root>/REPRODUCE.md). */
  reportFile?: string;
  /** Seconds per cell; <= 0 for none. Default by budget. */
  cellTimeoutSec?: number;
  html?: boolean;
  /** Fail when Fashion-MNIST is missing (default true; the pipeline fixture needs no data). */
  requireDatasets?: boolean;
  /** Progress lines (default: stderr). */
  say?: (line: string) => void;
}

export interface NotebookRun {
  notebook: string;
  input: string;
  executed: string;
  html?: string;
  ok: boolean;
  seconds: number;
  failure?: { codeCell: number | null; source: string; error: string; kind: string };
  /** Counted in the executed notebook / claims file. */
  figures: number;
  staticImages: number;
  tables: number;
  claims: number;
}

export interface ReproduceResult {
  ok: boolean;
  problems: Problem[];
  runs: NotebookRun[];
  /** out/REPRODUCE.md */
  report?: string;
  /** <root>/REPRODUCE.md with --write-back */
  publishedReport?: string;
}

export const CELL_TIMEOUT_BY_BUDGET: Record<Budget, number> = { smoke: 1800, quick: 6 * 3600, standard: 12 * 3600, paper: 0 };

function findRoot(start: string): string {
  let dir = path.resolve(start);
  for (;;) {
    try {
      const pkg = JSON.parse(fs.readFileSync(path.join(dir, 'package.json'), 'utf8'));
      if (pkg && pkg.workspaces) return dir;
    } catch { /* keep looking */ }
    const up = path.dirname(dir);
    if (up === dir) throw new Error(`no project root (package.json with workspaces) above ${start}`);
    dir = up;
  }
}

/** Load the built library (lib/dist), the same code the notebooks import. */
export function loadLib(root: string): Lib {
  const entry = path.join(root, 'lib', 'dist', 'index.js');
  if (!fs.existsSync(entry)) throw new Error(`the library is not built (${entry} missing): run \`npm run build\` (or \`npm ci\`, which builds it).`);
  return require(entry) as Lib;
}

function newestMtime(dir: string, ext: string): number {
  let t = 0;
  if (!fs.existsSync(dir)) return t;
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const f = path.join(dir, e.name);
    if (e.isDirectory()) t = Math.max(t, newestMtime(f, ext));
    else if (e.name.endsWith(ext)) t = Math.max(t, fs.statSync(f).mtimeMs);
  }
  return t;
}

/** Outputs of an executed notebook: figures (pai-figure HTML), static images, tables. */
export function summarizeExecuted(file: string): { figures: number; staticImages: number; tables: number; errors: number } {
  const nb = JSON.parse(fs.readFileSync(file, 'utf8')) as { cells: { cell_type: string; outputs?: { output_type: string; data?: Record<string, string | string[]> }[] }[] };
  let figures = 0, staticImages = 0, tables = 0, errors = 0;
  const text = (v: string | string[] | undefined) => (Array.isArray(v) ? v.join('') : v ?? '');
  for (const c of nb.cells) {
    for (const o of c.outputs ?? []) {
      if (o.output_type === 'error') errors++;
      if (!o.data) continue;
      const html = text(o.data['text/html']);
      if (html.includes('class="pai-figure"')) {
        figures++;
        if (o.data['image/png'] || o.data['image/svg+xml']) staticImages++;
      }
      if (html.includes('class="pai-table"')) tables++;
    }
  }
  return { figures, staticImages, tables, errors };
}

export function listNotebooks(dir: string): string[] {
  if (!fs.existsSync(dir)) return [];
  return fs.readdirSync(dir).filter((f) => f.endsWith('.ipynb') && !f.startsWith('.')).sort().map((f) => path.join(dir, f));
}

function stem(file: string): string {
  return path.basename(file).replace(/\.ipynb$/, '');
}

export function selectNotebooks(all: string[], only: string[] | undefined): string[] {
  if (!only || only.length === 0) return all;
  const picked = new Set<string>();
  for (const token of only) {
    const hits = all.filter((f) => stem(f) === token || stem(f).startsWith(token));
    if (hits.length === 0) {
      throw new Error(`--only ${token} matches no notebook (have: ${all.map(stem).join(', ') || 'none'}).`);
    }
    hits.forEach((h) => picked.add(h));
  }
  return all.filter((f) => picked.has(f));
}

function commandLine(o: ReproduceOptions, budget: Budget): string {
  const parts = ['npm run reproduce --', '--budget', budget];
  if (o.seeds) parts.push('--seeds', o.seeds.join(','));
  if (o.only && o.only.length) parts.push('--only', o.only.join(','));
  if (o.writeBack) parts.push('--write-back');
  return parts.join(' ');
}

function copyFigures(src: string, dst: string): void {
  fs.rmSync(dst, { recursive: true, force: true });
  if (!fs.existsSync(src)) return;
  fs.mkdirSync(dst, { recursive: true });
  for (const f of fs.readdirSync(src)) {
    if (/\.(png|svg)$/.test(f)) fs.copyFileSync(path.join(src, f), path.join(dst, f));
  }
}

function posix(p: string): string {
  return p.split(path.sep).join('/');
}

/** Check prerequisites; returns the problems and what the run needs. */
export function checkPrerequisites(root: string, requireDatasets: boolean, say: (s: string) => void): { problems: Problem[]; python: string | null; lib: Lib | null } {
  const problems: Problem[] = [];
  const tslabBin = path.join(root, 'node_modules', '.bin', 'tslab');
  if (!fs.existsSync(tslabBin)) problems.push({ what: `tslab is not installed (${tslabBin} missing)`, fix: 'npm ci', fatal: true });
  if (!hasNbconvert()) problems.push({ what: '`jupyter nbconvert` is not available', fix: 'sudo apt-get install -y jupyter-nbconvert', fatal: true });
  const python = findJupyterPython();
  if (!python) problems.push({ what: 'no Python with nbclient/nbformat/jupyter_client', fix: 'sudo apt-get install -y python3-nbclient python3-nbformat python3-jupyter-client', fatal: true });
  if (python && fs.existsSync(tslabBin)) {
    const k = ensureKernel(root, python);
    if (!k.ok) problems.push({ what: `the tslab Jupyter kernel is not registered (${k.detail})`, fix: kernelInstallCommand(root, python).join(' '), fatal: true });
    else if (k.action === 'registered') say(`registered the tslab kernel: ${k.detail}`);
  }
  let lib: Lib | null = null;
  try {
    lib = loadLib(root);
    const src = newestMtime(path.join(root, 'lib', 'src'), '.ts');
    const built = fs.statSync(path.join(root, 'lib', 'dist', 'index.js')).mtimeMs;
    if (src > built + 1000 && newestMtime(path.join(root, 'lib', 'dist'), '.js') < src) {
      problems.push({ what: 'lib/dist is older than lib/src (notebooks would run stale code)', fix: 'npm run build', fatal: false });
    }
  } catch (e) {
    problems.push({ what: `the library does not load: ${(e as Error).message.split('\n')[0]}`, fix: 'npm ci && npm run build', fatal: true });
  }
  if (lib) {
    const fa = lib.fashionAvailable();
    if (!fa.available) problems.push({ what: `Fashion-MNIST not found in ${fa.where}`, fix: lib.FASHION_HOW_TO_GET, fatal: requireDatasets });
    const why = lib.staticExportUnavailable();
    if (why) problems.push({ what: `static figure images will be omitted: ${why}`, fix: 'sudo apt-get install -y chromium (or set PRUNE_AT_INIT_CHROMIUM)', fatal: false });
  }
  return { problems, python, lib };
}

export async function runReproduce(o: ReproduceOptions = {}): Promise<ReproduceResult> {
  const say = o.say ?? ((s: string) => process.stderr.write(s + '\n'));
  const root = o.root ?? findRoot(__dirname);
  const notebooksDir = path.resolve(o.notebooksDir ?? path.join(root, 'notebooks'));
  const outDir = path.resolve(o.outDir ?? path.join(root, 'out'));
  const budget: Budget = o.budget ?? 'quick';
  const { problems, python, lib } = checkPrerequisites(root, o.requireDatasets ?? true, say);
  for (const p of problems) say(`${p.fatal ? 'MISSING' : 'warning'}: ${p.what}\n    fix: ${p.fix}`);
  if (problems.some((p) => p.fatal) || !python || !lib) return { ok: false, problems, runs: [] };

  lib.parseBudget(budget, '--budget');
  if (o.seeds) lib.parseSeeds(o.seeds, '--seeds');
  const notebooks = selectNotebooks(listNotebooks(notebooksDir), o.only);
  if (notebooks.length === 0) say(`no notebooks in ${notebooksDir}`);
  const cellTimeout = o.cellTimeoutSec ?? CELL_TIMEOUT_BY_BUDGET[budget];
  const runs: NotebookRun[] = [];
  for (const nbFile of notebooks) {
    const name = stem(nbFile);
    const executed = path.join(outDir, 'notebooks', `${name}.ipynb`);
    // Stale results of this notebook must not survive a failed run.
    fs.rmSync(lib.claimsFilePath(outDir, name), { force: true });
    fs.rmSync(path.join(outDir, 'figures', name), { recursive: true, force: true });
    fs.mkdirSync(path.join(outDir, 'logs'), { recursive: true });
    const log = fs.createWriteStream(path.join(outDir, 'logs', `${name}.log`));
    say(`=== ${name} (budget ${budget}${o.seeds ? `, seeds ${o.seeds.join(',')}` : ''})`);
    const env: NodeJS.ProcessEnv = { ...process.env, PRUNE_AT_INIT_BUDGET: budget, PRUNE_AT_INIT_OUT: outDir, PRUNE_AT_INIT_NOTEBOOK: name };
    if (o.seeds) env.PRUNE_AT_INIT_SEEDS = o.seeds.join(',');
    else delete env.PRUNE_AT_INIT_SEEDS;
    const r = await executeNotebook({ python, root, input: nbFile, output: executed, label: name, cellTimeoutSec: cellTimeout, env, log, echo: say });
    await new Promise<void>((res) => log.end(res));
    const run: NotebookRun = { notebook: name, input: nbFile, executed, ok: r.ok, seconds: r.seconds, figures: 0, staticImages: 0, tables: 0, claims: 0 };
    if (r.failure) run.failure = { codeCell: r.failure.codeCell, source: r.failure.source, error: r.failure.error, kind: r.failure.kind };
    if (fs.existsSync(executed)) {
      const s = summarizeExecuted(executed);
      Object.assign(run, { figures: s.figures, staticImages: s.staticImages, tables: s.tables });
      if (o.html !== false) {
        try {
          run.html = exportHtml(executed, path.join(outDir, 'html'));
        } catch (e) {
          say(`warning: ${(e as Error).message}`);
        }
      }
    }
    const cf = lib.claimsFilePath(outDir, name);
    if (fs.existsSync(cf)) run.claims = lib.readClaimsFile(cf).claims.length;
    say(`=== ${name}: ${r.ok ? 'ok' : 'FAILED'} in ${r.seconds}s (${run.claims} claims, ${run.figures} figures, ${run.tables} tables)`);
    runs.push(run);
  }

  const failures = runs.filter((r) => !r.ok).map((r) => ({ notebook: r.notebook, codeCell: r.failure?.codeCell, error: r.failure?.error ?? 'unknown error' }));
  // this invocation's claims only: out/claims/ may still hold files of earlier runs (other notebooks, other budgets)
  const ranOk = new Set(runs.filter((r) => r.ok).map((r) => r.notebook));
  const files = lib.readClaimsDir(outDir).filter((f) => ranOk.has(f.notebook) && f.budget === budget);
  const command = commandLine(o, budget);
  const report = path.join(outDir, 'REPRODUCE.md');
  fs.mkdirSync(outDir, { recursive: true });
  lib.writeFileAtomic(report, lib.renderReproduceMarkdown(files, { figureLink: (rel) => rel, failures, command }));
  say(`report: ${report}`);
  const result: ReproduceResult = { ok: failures.length === 0, problems, runs, report };

  if (o.writeBack) {
    // notebooks/runs/<budget>/claims/<notebook>.json: the claims of each budget's last written-back run
    const committed = path.join(notebooksDir, 'runs');
    const hasStandard = (nb: string) => fs.existsSync(lib.claimsFilePath(path.join(committed, 'standard'), nb));
    for (const f of files) {
      const from = lib.claimsFilePath(outDir, f.notebook);
      const to = lib.claimsFilePath(path.join(committed, budget), f.notebook);
      fs.mkdirSync(path.dirname(to), { recursive: true });
      lib.writeFileAtomic(to, fs.readFileSync(from, 'utf8'));
    }
    for (const r of runs) {
      if (!r.ok) { say(`not writing back ${r.notebook}: it failed`); continue; }
      if (budget !== 'standard' && hasStandard(r.notebook)) {
        say(`kept the committed standard-budget notebook ${r.notebook}; stored its ${budget}-budget claims for REPRODUCE.md`);
        continue;
      }
      fs.copyFileSync(r.executed, path.join(notebooksDir, `${r.notebook}.ipynb`));
      copyFigures(path.join(outDir, 'figures', r.notebook), path.join(notebooksDir, 'figures', r.notebook));
    }
    const published = path.resolve(o.reportFile ?? path.join(root, 'REPRODUCE.md'));
    const rel = posix(path.relative(path.dirname(published), notebooksDir));
    const primary = lib.readClaimsDir(path.join(committed, 'standard'));
    const main = primary.length > 0 ? primary : lib.readClaimsDir(path.join(committed, budget));
    const compare = lib.readClaimsDir(path.join(committed, 'quick'));
    lib.writeFileAtomic(published, lib.renderReproduceMarkdown(main, { figureLink: (p) => (rel ? `${rel}/${p}` : p), failures, command, compare }));
    say(`wrote back ${runs.filter((r) => r.ok).length} notebook run(s) (claims in ${path.join(committed, budget, 'claims')}); report: ${published}`);
    result.publishedReport = published;
  }

  for (const r of runs.filter((x) => !x.ok)) {
    const first = (r.failure?.source ?? '').split('\n').find((l) => l.trim()) ?? '';
    say(`FAILED ${r.notebook}: code cell ${r.failure?.codeCell ?? '?'}${first ? ` (${first.trim().slice(0, 80)})` : ''}: ${r.failure?.kind}\n` +
      (r.failure?.error ?? '').split('\n').slice(0, 12).map((l) => `    ${l}`).join('\n') +
      `\n    partial notebook: ${r.executed}\n    log: ${path.join(outDir, 'logs', `${r.notebook}.log`)}`);
  }
  return result;
}

const USAGE = `usage: npm run reproduce -- [--budget smoke|quick|standard|paper] [--seeds 0,1,2] [--only 01,03] [--write-back]
                              [--cell-timeout SECONDS] [--no-html] [--notebooks DIR] [--out DIR]
  --budget        experiment size (default quick); sets PRUNE_AT_INIT_BUDGET for the notebooks
  --seeds         seeds (default: each notebook's own for the budget); sets PRUNE_AT_INIT_SEEDS
  --only          run only notebooks whose file name starts with one of these prefixes
  --write-back    store the claims in notebooks/runs/<budget>/claims/, copy executed notebooks and figures
                  into notebooks/ (standard budget, or where no standard run is committed), and write
                  REPRODUCE.md (standard verdicts, quick beside them)
  --cell-timeout  seconds per cell (default: smoke 1800, quick 21600, standard 43200, paper none)
  --no-html       skip the HTML exports
  --check         only check prerequisites (registering the tslab kernel if needed) and exit`;

export function parseArgs(argv: string[], lib: Pick<Lib, 'parseBudget' | 'parseSeeds'>): ReproduceOptions & { help?: boolean; check?: boolean } {
  const o: ReproduceOptions & { help?: boolean; check?: boolean } = {};
  const value = (i: number, flag: string): string => {
    const v = argv[i + 1];
    if (v === undefined || v.startsWith('--')) throw new Error(`${flag} needs a value.\n${USAGE}`);
    return v;
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const eq = a.indexOf('=');
    const flag = a.startsWith('--') && eq > 0 ? a.slice(0, eq) : a;
    const inline = a.startsWith('--') && eq > 0 ? a.slice(eq + 1) : undefined;
    const take = () => (inline !== undefined ? inline : value(i++, flag));
    switch (flag) {
      case '--budget': o.budget = lib.parseBudget(take(), '--budget'); break;
      case '--seeds': o.seeds = lib.parseSeeds(take(), '--seeds'); break;
      case '--only': o.only = take().split(',').map((s) => s.trim()).filter(Boolean); break;
      case '--write-back': o.writeBack = true; break;
      case '--no-html': o.html = false; break;
      case '--cell-timeout': {
        const v = Number(take());
        if (!Number.isFinite(v)) throw new Error(`--cell-timeout must be a number of seconds (0 for none).\n${USAGE}`);
        o.cellTimeoutSec = v;
        break;
      }
      case '--notebooks': o.notebooksDir = take(); break;
      case '--out': o.outDir = take(); break;
      case '--check': o.check = true; break;
      case '-h': case '--help': o.help = true; break;
      default: throw new Error(`unknown argument ${JSON.stringify(a)}.\n${USAGE}`);
    }
  }
  return o;
}

async function main(): Promise<number> {
  const root = findRoot(__dirname);
  let lib: Lib;
  try {
    lib = loadLib(root);
  } catch (e) {
    process.stderr.write(`MISSING: ${(e as Error).message}\n`);
    return 2;
  }
  let opts: ReturnType<typeof parseArgs>;
  try {
    opts = parseArgs(process.argv.slice(2), lib);
  } catch (e) {
    process.stderr.write(`${(e as Error).message}\n`);
    return 2;
  }
  if (opts.help) {
    process.stdout.write(USAGE + '\n');
    return 0;
  }
  if (opts.check) {
    const { problems } = checkPrerequisites(root, true, (s) => process.stderr.write(s + '\n'));
    for (const p of problems) process.stderr.write(`${p.fatal ? 'MISSING' : 'warning'}: ${p.what}\n    fix: ${p.fix}\n`);
    if (problems.length === 0) process.stderr.write('all prerequisites present\n');
    return problems.some((p) => p.fatal) ? 2 : 0;
  }
  const r = await runReproduce({ ...opts, root });
  if (r.problems.some((p) => p.fatal)) return 2;
  return r.ok ? 0 : 1;
}

if (require.main === module) {
  main().then((code) => process.exit(code), (e) => {
    process.stderr.write(`reproduce: ${(e as Error).stack ?? e}\n`);
    process.exit(2);
  });
}
