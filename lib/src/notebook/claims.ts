/**
 * Claims: what a notebook checked against the paper, with the verdict computed from its data.
 * recordClaim displays the claim and writes <outDir>/claims/<notebook>.json atomically; the
 * reproduce script builds REPRODUCE.md from those files only.
 */
import * as fs from 'fs';
import * as path from 'path';
import { backendInfo } from '../backend';
import { writeFileAtomic } from '../fsutil';
import { displayBundle, escapeHtml } from './display';
import { checkSlug, currentNotebook, requireNotebook, reproduceCommand } from './params';
import { shownFigure } from './show-figure';
import { formatNumber } from './tables';
import { seOfDifference } from '../stats';
import { resultOrigins } from '../engine/tally';
import type { ResultOrigins } from '../engine/tally';
import type { MeanSd } from '../stats';
import { Gate, GATE_KINDS, Gates, gateFailures, gateStatus } from './gate';

/** 'inconclusive': a gate failed (undertrained dense reference, arms still improving, divergence), so the data test the budget, not the paper. */
export const VERDICTS = ['reproduced', 'partly', 'not reproduced', 'inconclusive'] as const;
export type Verdict = (typeof VERDICTS)[number];

export interface ClaimInput {
  /** Defaults to the current notebook (notebookParams). */
  notebook?: string;
  /** Short id, unique within the notebook, e.g. 'synflow-avoids-collapse'. */
  id: string;
  /** The paper's claim, quoted or closely paraphrased. */
  paperStatement: string;
  /** Where in the paper: "Tanaka et al. 2020, Fig. 3". */
  source: string;
  /** What we ran: model, data, budget, seeds. */
  setting: string;
  /** Our measured numbers (numbers are formatted when shown; strings as given). */
  numbers: Record<string, string | number>;
  /** Computed from the data (gatedVerdict(checks, gates)), never typed by hand. */
  verdict: Verdict;
  /**
   * The training gates the comparison rests on (gate.ts), or 'no training' for a claim about
   * untrained nets or theory. A failed gate requires verdict 'inconclusive', and only a failed gate allows it.
   */
  gates: Gates;
  rationale: string;
  /** Name of a figure shown earlier with showFigure in this notebook. */
  figure?: string;
  /** Command that reproduces the claim; default: reproduceCommand(current params). */
  command?: string;
  /** Output root; default from notebookParams. */
  outDir?: string;
}

export interface ClaimRecord extends Pick<ClaimInput, 'id' | 'paperStatement' | 'source' | 'setting' | 'numbers' | 'verdict' | 'rationale' | 'gates'> {
  gateStatus: 'passed' | 'failed' | 'no training';
  /** Paths relative to the output root. */
  figure?: { name: string; png?: string; svg?: string; json: string };
  command: string;
  recordedAt: string;
}

export interface ClaimsFile {
  schemaVersion: 2;
  notebook: string;
  runId: string;
  budget: string | null;
  seeds: number[] | null;
  backend: string | null;
  date: string;
  /** Where the results behind these claims were computed (engine/tally.ts); absent in older files. */
  results?: ResultOrigins;
  claims: ClaimRecord[];
}

export interface Check { label: string; passed: boolean }

/** A claim's checks and the measured numbers they rest on (what a study computes before gating). */
export interface ClaimChecks {
  checks: Check[];
  /** For recordClaim's numbers (no NaN). */
  numbers: Record<string, string | number>;
}

/**
 * What every study's claim function returns: the verdict formed from the checks, with the numbers
 * and rationale recordClaim records. A study's own verdict type extends it with study-specific
 * fields only (rvp-claims.ts RvpVerdict, overfitting.ts OverfitVerdict, ...).
 */
export interface ClaimVerdict extends ClaimChecks {
  verdict: Verdict;
  rationale: string;
  /** The gates the verdict rests on; absent where the notebook gates the checks itself (gatedVerdict). */
  gates?: Gates;
}

/** A verdict with how many checks passed and a one-line summary of them (verdictFromChecks, gatedVerdict). */
export interface VerdictTally {
  verdict: Verdict;
  passed: number;
  total: number;
  summary: string;
}

/**
 * Is `a` lower than `b` by more than `z` standard errors of the difference? A difference inside
 * seed noise decides nothing, so a check built on it must not pass (with a few seeds, such a
 * difference flips sign between runs that differ only in floating-point rounding).
 */
export function lowerBeyondNoise(a: MeanSd, b: MeanSd, z = 2): { passed: boolean; diff: number; margin: number } {
  if (!(z >= 0)) throw new Error(`lowerBeyondNoise: z must be >= 0, got ${z}.`);
  const diff = b.mean - a.mean, margin = z * seOfDifference(a, b);
  return { passed: diff > margin, diff, margin };
}

/** All checks passed -> 'reproduced'; none -> 'not reproduced'; otherwise 'partly'. */
export function verdictFrom(passedChecks: number, totalChecks: number): Verdict {
  if (!Number.isInteger(totalChecks) || totalChecks < 1) throw new Error(`verdictFrom: totalChecks must be a positive integer, got ${totalChecks}.`);
  if (!Number.isInteger(passedChecks) || passedChecks < 0 || passedChecks > totalChecks) {
    throw new Error(`verdictFrom: passedChecks must be an integer in 0..${totalChecks}, got ${passedChecks}.`);
  }
  if (passedChecks === totalChecks) return 'reproduced';
  if (passedChecks === 0) return 'not reproduced';
  return 'partly';
}

/**
 * The verdict of a trained comparison: 'inconclusive' when any gate failed (the summary then names
 * the failing gates and still lists the checks, for information); otherwise verdictFromChecks.
 */
export function gatedVerdict(checks: readonly Check[], gates: Gates): VerdictTally {
  const v = verdictFromChecks(checks);
  if (gates !== 'no training' && !Array.isArray(gates)) throw new Error(`gatedVerdict: gates must be an array of gates or 'no training', got ${JSON.stringify(gates)}.`);
  if (gateStatus(gates) !== 'failed') return v;
  return { ...v, verdict: 'inconclusive', summary: `inconclusive: ${gateFailures(gates)}. Checks, for information only: ${v.summary}` };
}

/** Verdict plus a one-line summary of which checks passed, for the rationale. */
export function verdictFromChecks(checks: readonly Check[]): VerdictTally {
  if (!Array.isArray(checks) || checks.length === 0) throw new Error('verdictFromChecks: give at least one { label, passed } check.');
  checks.forEach((c, i) => {
    if (!c || typeof c.label !== 'string' || typeof c.passed !== 'boolean') throw new Error(`verdictFromChecks: checks[${i}] must be { label: string, passed: boolean }, got ${JSON.stringify(c)}.`);
  });
  const passed = checks.filter((c) => c.passed).length;
  const summary = `${passed}/${checks.length} checks passed: ` + checks.map((c) => `${c.passed ? '✓' : '✗'} ${c.label}`).join('; ');
  return { verdict: verdictFrom(passed, checks.length), passed, total: checks.length, summary };
}

function need(value: unknown, what: string): string {
  if (typeof value !== 'string' || value.trim() === '') throw new Error(`recordClaim: ${what} must be a non-empty string, got ${JSON.stringify(value)}.`);
  return value;
}

export function formatClaimNumber(v: string | number): string {
  if (typeof v === 'string') return v;
  return Number.isInteger(v) ? String(v) : formatNumber(v, Math.abs(v) >= 100 ? 1 : 4);
}

function backendLabel(): string | null {
  try {
    const b = backendInfo();
    return `${b.backend} (tfjs ${b.tfjsVersion})`;
  } catch {
    return null;
  }
}

export function claimsFilePath(outDir: string, notebook: string): string {
  return path.join(outDir, 'claims', `${notebook}.json`);
}

/** Read and check one claims file; throws with the file name on a malformed one. */
export function readClaimsFile(file: string): ClaimsFile {
  let parsed: ClaimsFile;
  try {
    parsed = JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (e) {
    throw new Error(`claims file ${file} is not readable JSON (${(e as Error).message}); delete it and re-run its notebook.`);
  }
  if (!parsed || parsed.schemaVersion !== 2 || typeof parsed.notebook !== 'string' || !Array.isArray(parsed.claims)) {
    throw new Error(`claims file ${file} is not a schemaVersion 2 claims file; delete it and re-run its notebook.`);
  }
  return parsed;
}

/** All claims files under <outDir>/claims, sorted by notebook. */
export function readClaimsDir(outDir: string): ClaimsFile[] {
  const dir = path.join(outDir, 'claims');
  if (!fs.existsSync(dir)) return [];
  return fs.readdirSync(dir).filter((f) => f.endsWith('.json')).sort().map((f) => readClaimsFile(path.join(dir, f)));
}

const VERDICT_COLOUR: Record<Verdict, string> = { reproduced: '#1a7f37', partly: '#9a6700', 'not reproduced': '#cf222e', inconclusive: '#57606a' };

/** The gates of a claim as lines: '✓ label: detail'. */
export function gateLines(gates: Gates): string[] {
  if (gates === 'no training') return ['no training in this claim (no gate applies)'];
  return gates.map((g) => `${g.passed ? '✓' : '✗'} ${g.label}: ${g.detail}`);
}

export function claimHtml(notebook: string, c: ClaimRecord): string {
  const nums = Object.entries(c.numbers).map(([k, v]) => `<tr><td style="text-align:left">${escapeHtml(k)}</td><td style="text-align:right">${escapeHtml(formatClaimNumber(v))}</td></tr>`).join('');
  return `<div class="pai-claim" style="border-left:4px solid ${VERDICT_COLOUR[c.verdict]};padding:0.4em 0.8em;margin:0.5em 0">` +
    `<div><strong>Claim ${escapeHtml(notebook)}/${escapeHtml(c.id)}</strong> — <strong style="color:${VERDICT_COLOUR[c.verdict]}">${escapeHtml(c.verdict)}</strong></div>` +
    `<blockquote style="margin:0.4em 0">${escapeHtml(c.paperStatement)}<br><em>${escapeHtml(c.source)}</em></blockquote>` +
    `<div><strong>Setting:</strong> ${escapeHtml(c.setting)}</div>` +
    `<table class="pai-claim-numbers"><thead><tr><th style="text-align:left">quantity</th><th style="text-align:right">ours</th></tr></thead><tbody>${nums}</tbody></table>` +
    `<div><strong>Gates (${escapeHtml(c.gateStatus)}):</strong><ul style="margin:0.2em 0">${gateLines(c.gates).map((l) => `<li>${escapeHtml(l)}</li>`).join('')}</ul></div>` +
    `<div><strong>Why:</strong> ${escapeHtml(c.rationale)}</div>` +
    (c.figure ? `<div><strong>Figure:</strong> <code>${escapeHtml(c.figure.png ?? c.figure.json)}</code></div>` : '') +
    `<div><strong>Reproduce:</strong> <code>${escapeHtml(c.command)}</code></div></div>`;
}

export function claimText(notebook: string, c: ClaimRecord): string {
  const nums = Object.entries(c.numbers).map(([k, v]) => `  ${k}: ${formatClaimNumber(v)}`).join('\n');
  return `Claim ${notebook}/${c.id}: ${c.verdict.toUpperCase()}\n  paper: ${c.paperStatement} (${c.source})\n  setting: ${c.setting}\n${nums}\n  gates (${c.gateStatus}):\n${gateLines(c.gates).map((l) => `    ${l}`).join('\n')}\n  why: ${c.rationale}` +
    (c.figure ? `\n  figure: ${c.figure.png ?? c.figure.json}` : '') + `\n  reproduce: ${c.command}`;
}

/**
 * Validate, display and store a claim. Re-recording an id replaces it; a new run (new
 * notebookParams call) replaces the file. Returns nothing so the cell prints nothing extra.
 */
export function recordClaim(input: ClaimInput): void {
  if (!input || typeof input !== 'object') throw new Error('recordClaim: pass an object { id, paperStatement, source, setting, numbers, verdict, rationale }.');
  const { notebook, outDir } = requireNotebook('recordClaim', input);
  const id = checkSlug(input.id, 'recordClaim: id');
  const ctx = currentNotebook();
  if (!(VERDICTS as readonly string[]).includes(input.verdict)) {
    throw new Error(`recordClaim: verdict ${JSON.stringify(input.verdict)} is not one of ${VERDICTS.map((v) => `'${v}'`).join(', ')}; compute it with verdictFrom(passed, total).`);
  }
  if (!input.numbers || typeof input.numbers !== 'object' || Array.isArray(input.numbers) || Object.keys(input.numbers).length === 0) {
    throw new Error('recordClaim: numbers must be a non-empty object of measured values, e.g. { "accuracy (mean ± sd)": "0.91 ± 0.01" }.');
  }
  for (const [k, v] of Object.entries(input.numbers)) {
    if (typeof v === 'number' ? Number.isNaN(v) : typeof v !== 'string') {
      throw new Error(`recordClaim: numbers['${k}'] = ${typeof v === 'number' ? String(v) : JSON.stringify(v)} must be a number (not NaN) or a string.`);
    }
  }
  const gates = checkGates(input.gates);
  const status = gateStatus(gates);
  if (status === 'failed' && input.verdict !== 'inconclusive') {
    throw new Error(`recordClaim: gate failed (${gateFailures(gates)}) but verdict is '${input.verdict}'; compute the verdict with gatedVerdict(checks, gates).`);
  }
  if (status !== 'failed' && input.verdict === 'inconclusive') {
    throw new Error(`recordClaim: verdict 'inconclusive' needs a failed gate (gates: ${status}); a comparison on trained nets gets a verdict.`);
  }
  let figure: ClaimRecord['figure'];
  if (input.figure !== undefined) {
    const f = shownFigure(notebook, checkSlug(input.figure, 'recordClaim: figure'));
    if (!f) throw new Error(`recordClaim: figure '${input.figure}' was not shown in notebook '${notebook}'; call showFigure(fig, { name: '${input.figure}' }) first.`);
    figure = { name: f.name, json: f.relative.json, png: f.relative.png, svg: f.relative.svg };
  }
  let command = input.command;
  if (command === undefined) {
    if (!ctx) throw new Error('recordClaim: give command (no notebookParams() context to derive it from).');
    command = reproduceCommand(ctx);
  }
  const record: ClaimRecord = {
    id,
    paperStatement: need(input.paperStatement, 'paperStatement'),
    source: need(input.source, 'source'),
    setting: need(input.setting, 'setting'),
    numbers: { ...input.numbers },
    verdict: input.verdict,
    gates, gateStatus: status,
    rationale: need(input.rationale, 'rationale'),
    figure,
    command: need(command, 'command'),
    recordedAt: new Date().toISOString(),
  };

  const file = claimsFilePath(outDir, notebook);
  const runId = ctx && ctx.notebook === notebook ? ctx.runId : 'no-context';
  let existing: ClaimsFile | null = null;
  if (fs.existsSync(file)) {
    try { existing = readClaimsFile(file); } catch { existing = null; }
  }
  const origins = resultOrigins();
  const keep = existing && existing.runId === runId ? existing.claims.filter((c) => c.id !== id) : [];
  const out: ClaimsFile = {
    schemaVersion: 2,
    notebook,
    runId,
    budget: ctx && ctx.notebook === notebook ? ctx.budget : null,
    seeds: ctx && ctx.notebook === notebook ? [...ctx.seeds] : null,
    backend: backendLabel() ?? existing?.backend ?? null,
    date: new Date().toISOString(),
    ...(origins.results > 0 ? { results: origins } : {}),
    claims: [...keep, record],
  };
  writeFileAtomic(file, JSON.stringify(out, null, 2) + '\n');
  displayBundle({ data: { 'text/html': claimHtml(notebook, record), 'text/markdown': claimMarkdownCell(notebook, record), 'text/plain': claimText(notebook, record) } });
}

function checkGates(gates: unknown): Gates {
  if (gates === 'no training') return gates;
  if (!Array.isArray(gates) || gates.length === 0) {
    throw new Error(`recordClaim: gates must be a non-empty array of gates (denseGate, plateauGate, divergenceGate) or 'no training', got ${JSON.stringify(gates)}.`);
  }
  gates.forEach((g: Gate, i) => {
    if (!g || typeof g.label !== 'string' || typeof g.passed !== 'boolean' || typeof g.detail !== 'string' || !GATE_KINDS.includes(g.kind)) {
      throw new Error(`recordClaim: gates[${i}] is not a gate (build it with denseGate, plateauGate or divergenceGate), got ${JSON.stringify(g)}.`);
    }
  });
  return gates.map((g: Gate) => ({ kind: g.kind, label: g.label, passed: g.passed, detail: g.detail }));
}

function claimMarkdownCell(notebook: string, c: ClaimRecord): string {
  const nums = Object.entries(c.numbers).map(([k, v]) => `| ${mdCell(k)} | ${mdCell(formatClaimNumber(v))} |`).join('\n');
  return `**Claim ${notebook}/${c.id} — ${c.verdict}**\n\n> ${c.paperStatement}\n> — *${c.source}*\n\n**Setting:** ${c.setting}\n\n| quantity | ours |\n|---|---:|\n${nums}\n\n**Gates (${c.gateStatus}):**\n${gateLines(c.gates).map((l) => `- ${l}`).join('\n')}\n\n**Why:** ${c.rationale}\n\n` +
    (c.figure ? `**Figure:** \`${c.figure.png ?? c.figure.json}\`\n\n` : '') + `**Reproduce:** \`${c.command}\`\n`;
}

/** Text safe in a Markdown table cell. */
export function mdCell(s: string): string {
  return s.replace(/\|/g, '\\|').replace(/\r?\n/g, ' ');
}
