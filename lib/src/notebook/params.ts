/**
 * Notebook parameters, read in each notebook's first cell. The reproduce script sets them through
 * the environment, so the same notebook runs at smoke / quick / paper budget without edits.
 */
import * as fs from 'fs';
import * as path from 'path';
import { displayBundle, escapeHtml } from './display';
import { parseConfig, strictObject, z } from '../config/schema';
import { installKernelShutdownGuard } from './kernel-guard';

/**
 * smoke: seconds, every code path (tests); quick: the README's main job, reduced scale (its verdicts
 * may be inconclusive); standard: the faithful replication on one 2-core machine (every gate meant to
 * pass, at most 3 hours cold); paper: the authors' scale, for clusters.
 */
export const BUDGETS = ['smoke', 'quick', 'standard', 'paper'] as const;
export type Budget = (typeof BUDGETS)[number];

export const BUDGET_ENV = 'PRUNE_AT_INIT_BUDGET';
export const SEEDS_ENV = 'PRUNE_AT_INIT_SEEDS';
export const OUT_ENV = 'PRUNE_AT_INIT_OUT';
/** Set by the reproduce script to the notebook's file name (without .ipynb). */
export const NOTEBOOK_ENV = 'PRUNE_AT_INIT_NOTEBOOK';

export const DEFAULT_BUDGET: Budget = 'quick';
export const DEFAULT_SEEDS: Readonly<Record<Budget, readonly number[]>> = {
  smoke: [0],
  // quick: two seeds (the fewest that give a spread), so the whole quick run fits ~5 min on 2 cores
  quick: [0, 1],
  standard: [0, 1, 2],
  paper: [0, 1, 2, 3, 4],
};

export interface NotebookParamsDefaults {
  /** Short name, used for output paths: by convention the file name without .ipynb. */
  notebook: string;
  /** Used when PRUNE_AT_INIT_BUDGET is unset. Default 'quick'. */
  budget?: Budget;
  /** Seeds per budget when PRUNE_AT_INIT_SEEDS is unset. Default DEFAULT_SEEDS. */
  seeds?: Partial<Record<Budget, number[]>>;
  /** Output root when PRUNE_AT_INIT_OUT is unset. Default `<project root>/out`. */
  outDir?: string;
}

export interface NotebookParams {
  notebook: string;
  budget: Budget;
  seeds: number[];
  /** Absolute output root: figures/, claims/ live below it. */
  outDir: string;
  /** Where each value came from, shown in the parameter cell. */
  sources: { budget: string; seeds: string; outDir: string };
  /** Identifies this execution: claims files from an earlier run are replaced, not merged. */
  runId: string;
  startedAt: string;
}

const SLUG = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;

export function checkSlug(value: unknown, what: string): string {
  if (typeof value !== 'string' || !SLUG.test(value)) {
    throw new Error(`${what} must be a name of letters, digits, '.', '_' or '-' (starting with a letter or digit), got ${JSON.stringify(value)}.`);
  }
  return value;
}

export function parseBudget(value: unknown, source = 'budget'): Budget {
  const s = typeof value === 'string' ? value.trim().toLowerCase() : value;
  if (typeof s === 'string' && (BUDGETS as readonly string[]).includes(s)) return s as Budget;
  throw new Error(`${source}=${JSON.stringify(value)} is not a budget: use one of ${BUDGETS.join(', ')}.`);
}

/**
 * "0,1,2" or "0-4" or a mix ("0-2,7") -> distinct integer seeds, in order given. Negative seeds are
 * meaningful (the RNG hashes the seed as text): "-1", "-3--1".
 */
export function parseSeeds(value: unknown, source = 'seeds'): number[] {
  const fail = (why: string): never => {
    throw new Error(`${source}=${JSON.stringify(value)} is not a seed list (${why}): write comma-separated integers or ranges, e.g. "0,1,2" or "0-4".`);
  };
  let seeds: number[] = [];
  if (Array.isArray(value)) {
    seeds = value.map((v) => (typeof v === 'number' ? v : NaN));
  } else if (typeof value === 'string') {
    const parts = value.split(',').map((p) => p.trim()).filter((p) => p.length > 0);
    if (parts.length === 0) fail('empty');
    for (const p of parts) {
      const range = /^(-?\d+)\s*-\s*(-?\d+)$/.exec(p);
      if (range) {
        const a = Number(range[1]), b = Number(range[2]);
        if (b < a) fail(`range ${p} runs backwards`);
        if (b - a > 10000) fail(`range ${p} is too long`);
        for (let s = a; s <= b; s++) seeds.push(s);
      } else if (/^-?\d+$/.test(p)) {
        seeds.push(Number(p));
      } else {
        fail(`'${p}' is not an integer`);
      }
    }
  } else {
    fail('not a string or array');
  }
  if (seeds.length === 0) fail('empty');
  for (const s of seeds) if (!Number.isSafeInteger(s)) fail(`${s} is not an integer`);
  const dup = seeds.find((s, i) => seeds.indexOf(s) !== i);
  if (dup !== undefined) fail(`seed ${dup} is repeated`);
  return seeds;
}

/** Nearest ancestor of `start` whose package.json declares npm workspaces (the repo root); else `start`. */
export function projectRoot(start = process.cwd()): string {
  let dir = path.resolve(start);
  for (;;) {
    try {
      const pkg = JSON.parse(fs.readFileSync(path.join(dir, 'package.json'), 'utf8'));
      if (pkg && pkg.workspaces) return dir;
    } catch { /* no package.json here */ }
    const up = path.dirname(dir);
    if (up === dir) return path.resolve(start);
    dir = up;
  }
}

/** A path as shown in notebooks: relative to the project root when inside it (no machine paths in committed outputs). */
export function displayPath(p: string): string {
  const root = projectRoot();
  const rel = path.relative(root, p);
  return rel && !rel.startsWith('..') && !path.isAbsolute(rel) ? rel.split(path.sep).join('/') : p;
}

/** Pick the value for the budget: `byBudget(p.budget, { smoke: 2, quick: 20, standard: 60, paper: 200 })`. */
export function byBudget<T>(budget: Budget, values: Record<Budget, T>): T {
  parseBudget(budget);
  if (!(budget in values)) throw new Error(`byBudget: no value for budget '${budget}'; give all of ${BUDGETS.join(', ')}.`);
  return values[budget];
}

let current: NotebookParams | null = null;

/** Parameters of the notebook running in this process (set by notebookParams), or null. */
export function currentNotebook(): NotebookParams | null {
  return current;
}

/** Forget the current notebook (tests). */
export function clearNotebookContext(): void {
  current = null;
}

export function requireNotebook(fn: string, given?: { notebook?: string; outDir?: string }): { notebook: string; outDir: string } {
  if (given?.notebook && given.outDir) return { notebook: checkSlug(given.notebook, `${fn}: notebook`), outDir: path.resolve(given.outDir) };
  if (!current) {
    throw new Error(`${fn}: no notebook context. Call notebookParams({ notebook: '<name>' }) in the first cell, or pass { notebook, outDir }.`);
  }
  return { notebook: given?.notebook ? checkSlug(given.notebook, `${fn}: notebook`) : current.notebook, outDir: given?.outDir ? path.resolve(given.outDir) : current.outDir };
}

/**
 * Read the parameters (environment first, then the notebook's defaults), remember them for
 * showFigure / recordClaim, and display them. Call once, in the first cell.
 */
const seedList = z.array(z.int());
/** Schema of notebookParams' argument (strict: a typo such as `seed` or `budgets` is an error). */
export const NOTEBOOK_PARAMS_SCHEMA = strictObject({
  notebook: z.string().describe('short name: the file name without .ipynb'),
  budget: z.enum(BUDGETS).optional().describe(`used when ${BUDGET_ENV} is unset (default '${DEFAULT_BUDGET}')`),
  seeds: strictObject({ smoke: seedList.optional(), quick: seedList.optional(), standard: seedList.optional(), paper: seedList.optional() }).optional(),
  outDir: z.string().min(1).optional(),
});

export function notebookParams(defaults: NotebookParamsDefaults, env: NodeJS.ProcessEnv = process.env, options: { display?: boolean } = {}): NotebookParams {
  if (!defaults || typeof defaults !== 'object') throw new Error('notebookParams: pass an object, e.g. notebookParams({ notebook: "01-layer-collapse" }).');
  parseConfig(NOTEBOOK_PARAMS_SCHEMA, defaults, 'notebookParams argument', 'notebookParams');
  installKernelShutdownGuard();
  const notebook = checkSlug(defaults.notebook, 'notebookParams: notebook');
  const envNotebook = env[NOTEBOOK_ENV];
  if (envNotebook && envNotebook !== notebook) {
    throw new Error(`notebookParams: this notebook calls itself '${notebook}' but is run as '${envNotebook}' (${NOTEBOOK_ENV}); ` +
      `make notebookParams({ notebook }) match the file name ${envNotebook}.ipynb.`);
  }
  let budget: Budget, budgetSrc: string;
  if (env[BUDGET_ENV] !== undefined && env[BUDGET_ENV] !== '') {
    budget = parseBudget(env[BUDGET_ENV], BUDGET_ENV);
    budgetSrc = `env ${BUDGET_ENV}`;
  } else {
    budget = defaults.budget !== undefined ? parseBudget(defaults.budget, 'notebookParams: budget') : DEFAULT_BUDGET;
    budgetSrc = `default (set ${BUDGET_ENV}=${BUDGETS.join('|')})`;
  }
  let seeds: number[], seedsSrc: string;
  if (env[SEEDS_ENV] !== undefined && env[SEEDS_ENV] !== '') {
    seeds = parseSeeds(env[SEEDS_ENV], SEEDS_ENV);
    seedsSrc = `env ${SEEDS_ENV}`;
  } else {
    const own = defaults.seeds?.[budget];
    seeds = own !== undefined ? parseSeeds(own, `notebookParams: seeds.${budget}`) : [...DEFAULT_SEEDS[budget]];
    seedsSrc = `default for '${budget}' (set ${SEEDS_ENV}=0,1,2)`;
  }
  let outDir: string, outSrc: string;
  if (env[OUT_ENV]) {
    outDir = path.resolve(env[OUT_ENV] as string);
    outSrc = `env ${OUT_ENV}`;
  } else if (defaults.outDir) {
    outDir = path.resolve(defaults.outDir);
    outSrc = 'notebook default';
  } else {
    outDir = path.join(projectRoot(), 'out');
    outSrc = `default (set ${OUT_ENV})`;
  }
  current = {
    notebook, budget, seeds, outDir,
    sources: { budget: budgetSrc, seeds: seedsSrc, outDir: outSrc },
    runId: `${new Date().toISOString()}-${Math.random().toString(36).slice(2, 10)}`,
    startedAt: new Date().toISOString(),
  };
  if (options.display !== false) showParams(current);
  return current;
}

function showParams(p: NotebookParams): void {
  const rows: [string, string, string][] = [
    ['notebook', p.notebook, ''],
    ['budget', p.budget, p.sources.budget],
    ['seeds', p.seeds.join(', '), p.sources.seeds],
    ['output', displayPath(p.outDir), p.sources.outDir],
  ];
  const html = '<table class="pai-params"><caption>Parameters</caption>' +
    rows.map(([k, v, s]) => `<tr><th style="text-align:left">${escapeHtml(k)}</th><td style="text-align:left"><code>${escapeHtml(v)}</code></td><td style="text-align:left">${escapeHtml(s)}</td></tr>`).join('') +
    '</table>';
  const text = rows.map(([k, v, s]) => `${k.padEnd(8)} ${v}${s ? `   [${s}]` : ''}`).join('\n');
  displayBundle({ data: { 'text/html': html, 'text/plain': text } });
}

/** The command that re-runs this notebook through the reproduce pipeline with the same settings. */
export function reproduceCommand(p: Pick<NotebookParams, 'notebook' | 'budget' | 'seeds'>): string {
  const prefix = /^(\d+)-/.exec(p.notebook)?.[1] ?? p.notebook;
  return `npm run reproduce -- --only ${prefix} --budget ${p.budget} --seeds ${p.seeds.join(',')}`;
}
