/**
 * Gates: a trained comparison tests a paper only when the networks in it are trained. A gate is a
 * condition on the training itself, checked before a claim's checks are read:
 * - dense gate: the dense reference, trained with the claim's data, recipe and seeds, ends within
 *   `margin` of the same net's converged accuracy (the same recipe run for a long schedule, stored
 *   as a result like any other), both means over the same seeds: one seed's converged accuracy
 *   moves by more than the margin's worth of noise (ResNet-8 on 1,000 images: 78.4-81.2 % over three
 *   seeds; one seed moved 1.5 points between two float32 roundings of the same run);
 * - plateau gate: the arms compared were no longer improving at the last epoch (mean gain of the
 *   final epoch at most `maxGain`);
 * - above-chance gate: a comparison in which every pair of arms sits at chance tests nothing (the
 *   nets did not train), however converged the dense reference;
 * - divergence gate: no arm diverged in more than the tolerated fraction of its seeds (diverged runs
 *   are counted and shown, never averaged in as chance accuracy);
 * - long-run check of arms at chance (chanceLongRun): an arm at chance at the budget's last epoch
 *   may be untrainable or only slow to take off (deep sparse tanh nets can sit at chance for many
 *   epochs, and the plateau gate sees a gain of 0 either way), so its first run is re-trained with
 *   the dense reference's converged schedule; if that run leaves chance, every run of the arm is, and
 *   the claim reads them (stagedLongRuns, longRunRule).
 * - scope gate: where a claim is tested on several (network, dataset) groups, a group whose dense gate
 *   fails is left out of the claim's checks (its cells are inconclusive) and the other groups still test
 *   it; the gate passes while at least one group remains and lists what was left out and why.
 * When a gate fails, the claim's verdict is 'inconclusive' with the gate's numbers, never 'partly'
 * or 'not reproduced' because of the budget. Claims that train nothing declare `gates: 'no training'`.
 */
import { formatNumber } from './tables';
import { mean, meanSd } from '../stats';
import type { Budget } from './params';

export type GateKind = 'dense-converged' | 'plateau' | 'divergence' | 'arms-above-chance' | 'chance-long-run' | 'scope' | 'timing-power';
export const GATE_KINDS: readonly GateKind[] = ['dense-converged', 'plateau', 'divergence', 'arms-above-chance', 'chance-long-run', 'scope', 'timing-power'];

export interface Gate {
  kind: GateKind;
  /** What was gated, e.g. "LeNet-300-100, Fashion-MNIST 60k/10k, Adam 3e-4 b128 x 10". */
  label: string;
  passed: boolean;
  /** One line with the numbers the gate rests on. */
  detail: string;
}

/** Chance accuracy and the band above it within which an accuracy counts as chance. */
export interface ChanceBand { chance: number; band: number }

/** Default margins, stated in every notebook that uses them. */
export const GATE_DEFAULTS = {
  /** Dense reference within 2 accuracy points of its converged accuracy. */
  margin: 0.02,
  /** An arm whose mean accuracy still rose by more than 1 point in its final epoch is still improving. */
  maxFinalEpochGain: 0.01,
  /** No arm may diverge in more than this fraction of its seeds. */
  maxDivergedFraction: 0,
} as const;

function finiteList(values: readonly number[], what: string): number[] {
  if (!Array.isArray(values) || values.length === 0) throw new Error(`${what}: give a non-empty array of accuracies.`);
  values.forEach((v, i) => {
    if (typeof v !== 'number' || !Number.isFinite(v) || v < 0 || v > 1) throw new Error(`${what}[${i}] = ${JSON.stringify(v)} is not an accuracy in [0, 1]; leave diverged runs out and count them with divergenceGate.`);
  });
  return [...values];
}

function pct(x: number): string {
  return `${pts(x)} %`;
}

/** A fraction in percentage points with two decimals. */
function pts(x: number): string {
  return Number.isFinite(x) ? (100 * x).toFixed(2) : formatNumber(x);
}

/** Comparisons at a margin's edge must not depend on the rounding of 0.88 - 0.86. */
const EPS = 1e-12;

/**
 * Dense gate: mean final accuracy of the dense reference at the budget vs the mean final accuracy
 * of the converged run(s); passes when reference >= converged - margin.
 *
 * With `atChance` (the chance accuracy and its band), a reference run that ended at chance while the
 * converged runs train above it is a failed run of the recipe (a collapse the divergence rule's loss
 * test does not see: the loss rose, then the net died at chance), not an undertrained one. The gate
 * then fails and says so, with the other runs' gap, instead of averaging the failure in as a budget gap.
 * A converged run at chance while other converged runs train is the same kind of failure (the MNIST
 * LeNet seed that dies at chance dies on the long schedule too): it is left out of the converged
 * accuracy and named. When no converged run trains, nothing is left out (the ordinary gate).
 */
export function denseGate(label: string, reference: readonly number[], converged: readonly number[], margin: number = GATE_DEFAULTS.margin,
  atChance?: ChanceBand): Gate {
  if (!(margin >= 0 && margin < 1)) throw new Error(`denseGate: margin must be in [0, 1), got ${margin}.`);
  if (atChance && !(atChance.chance >= 0 && atChance.chance < 1 && atChance.band >= 0)) {
    throw new Error(`denseGate: atChance needs chance in [0, 1) and band >= 0, got ${JSON.stringify(atChance)}.`);
  }
  const ref = finiteList(reference, 'denseGate: reference');
  const r = meanSd(ref);
  const line = atChance ? atChance.chance + atChance.band + EPS : -Infinity;
  const conv = finiteList(converged, 'denseGate: converged');
  const convTrained = conv.filter((a) => a > line), convFailed = conv.filter((a) => a <= line);
  const c = meanSd(convTrained.length > 0 ? convTrained : conv);
  const convNote = convTrained.length > 0 && convFailed.length > 0
    ? `; ${convFailed.length} of ${conv.length} converged runs at chance, ${convFailed.map(pct).join(', ')}, left out` : '';
  const failed = ref.filter((a) => a <= line);
  if (failed.length > 0 && c.mean > line) {
    const others = ref.filter((a) => a > line);
    const rest = others.length === 0 ? 'no other run'
      : `the other ${others.length}: ${pct(mean(others))} vs converged ${pct(c.mean)}, gap ${pts(c.mean - mean(others))} points, allowed ${pts(margin)}`;
    return {
      kind: 'dense-converged', label, passed: false,
      detail: `${failed.length} of ${ref.length} dense reference runs ended at chance (${failed.map(pct).join(', ')}; at chance = ≤ ${pct(line)}) ` +
        `while the converged run trains (${pct(c.mean)}${convNote}): failed runs of this recipe, not undertraining (${rest})`,
    };
  }
  const gap = c.mean - r.mean;
  return {
    kind: 'dense-converged', label, passed: gap <= margin + EPS,
    detail: `dense reference ${pct(r.mean)} (${r.n} seed${r.n === 1 ? '' : 's'}) vs converged ${pct(c.mean)} (${c.n} seed${c.n === 1 ? '' : 's'}${convNote}): ` +
      `gap ${pts(gap)} points, allowed ${pts(margin)}`,
  };
}

/**
 * Plateau gate over the arms compared: each arm gives its per-seed test-accuracy histories (one
 * entry per epoch). The final-epoch gain is last - second to last, averaged over seeds; an arm
 * trained for one epoch has no plateau to show and fails.
 */
export function plateauGate(label: string, arms: Record<string, readonly (readonly number[])[]>, maxGain: number = GATE_DEFAULTS.maxFinalEpochGain): Gate {
  if (!(maxGain >= 0)) throw new Error(`plateauGate: maxGain must be >= 0, got ${maxGain}.`);
  const names = Object.keys(arms);
  if (names.length === 0) throw new Error('plateauGate: give at least one arm.');
  const still: string[] = [];
  let worst = -Infinity, worstArm = names[0];
  for (const name of names) {
    const hs = arms[name];
    if (!Array.isArray(hs) || hs.length === 0) throw new Error(`plateauGate: arm '${name}' has no histories.`);
    const gains = hs.map((h, i) => {
      if (!Array.isArray(h) || h.some((v) => typeof v !== 'number' || !Number.isFinite(v))) throw new Error(`plateauGate: arm '${name}' seed ${i}: history must be finite accuracies, got ${JSON.stringify(h)}.`);
      return h.length >= 2 ? h[h.length - 1] - h[h.length - 2] : Infinity;
    });
    const g = mean(gains);
    if (g > worst) { worst = g; worstArm = name; }
    if (g > maxGain + EPS) still.push(name);
  }
  const shown = Number.isFinite(worst) ? `${pts(worst)} points` : 'no previous epoch';
  return {
    kind: 'plateau', label, passed: still.length === 0,
    detail: still.length === 0
      ? `every arm's final-epoch gain ≤ ${pts(maxGain)} points (largest: ${worstArm}, ${shown})`
      : `still improving at the last epoch (gain > ${pts(maxGain)} points): ${still.join(', ')} (largest: ${worstArm}, ${shown})`,
  };
}

/** Divergence gate: per arm, diverged runs out of all runs. */
export function divergenceGate(label: string, arms: Record<string, { diverged: number; runs: number }>, maxFraction: number = GATE_DEFAULTS.maxDivergedFraction): Gate {
  const bad: string[] = [];
  let total = 0, runs = 0;
  for (const [name, a] of Object.entries(arms)) {
    if (!Number.isInteger(a.runs) || a.runs < 1 || !Number.isInteger(a.diverged) || a.diverged < 0 || a.diverged > a.runs) {
      throw new Error(`divergenceGate: arm '${name}' needs integers 0 <= diverged <= runs, runs >= 1; got ${JSON.stringify(a)}.`);
    }
    total += a.diverged; runs += a.runs;
    if (a.diverged / a.runs > maxFraction) bad.push(`${name} ${a.diverged}/${a.runs}`);
  }
  if (runs === 0) throw new Error('divergenceGate: give at least one arm.');
  return {
    kind: 'divergence', label, passed: bad.length === 0,
    detail: bad.length === 0 ? `${total} of ${runs} runs diverged` : `diverged runs beyond ${formatNumber(100 * maxFraction, 0)} %: ${bad.join(', ')}`,
  };
}

/**
 * Above-chance gate: passes when at least one compared pair has an arm above chance + band (mean
 * accuracies); when every pair is within the band, the comparison shows nothing about the claim.
 */
export function aboveChanceGate(label: string, pairs: ReadonlyArray<{ name: string; a: number; b: number }>, chance: number, band: number): Gate {
  if (!(chance >= 0 && chance < 1) || !(band >= 0)) throw new Error(`aboveChanceGate: chance must be in [0, 1) and band >= 0, got ${chance}, ${band}.`);
  if (pairs.length === 0) throw new Error('aboveChanceGate: give at least one compared pair.');
  const idle = pairs.filter((p) => Math.max(p.a, p.b) <= chance + band + EPS);
  return {
    kind: 'arms-above-chance', label, passed: idle.length < pairs.length,
    detail: idle.length < pairs.length
      ? `${pairs.length - idle.length} of ${pairs.length} compared pairs have an arm above chance + ${pts(band)} points`
      : `all ${pairs.length} compared pairs within ${pts(band)} points of chance (${pts(chance)} %)`,
  };
}

/**
 * Scope a claim to the groups whose dense gate passed. With at least one passing group: those groups'
 * dense gates plus a passing 'scope' gate naming the groups left out (their cells are inconclusive, with
 * the failing gate's numbers). With none: every dense gate as it is (the claim is inconclusive).
 */
export function scopeByDenseGates(label: string, groups: ReadonlyArray<{ group: string; gate: Gate }>): { included: string[]; excluded: string[]; gates: Gate[] } {
  if (groups.length === 0) throw new Error('scopeByDenseGates: give at least one { group, gate }.');
  groups.forEach((g, i) => {
    if (!g || typeof g.group !== 'string' || !g.gate || g.gate.kind !== 'dense-converged') throw new Error(`scopeByDenseGates: groups[${i}] must be { group, gate } with a dense-converged gate, got ${JSON.stringify(g)}.`);
  });
  const ok = groups.filter((g) => g.gate.passed), bad = groups.filter((g) => !g.gate.passed);
  if (ok.length === 0 || bad.length === 0) return { included: ok.map((g) => g.group), excluded: bad.map((g) => g.group), gates: groups.map((g) => g.gate) };
  return {
    included: ok.map((g) => g.group), excluded: bad.map((g) => g.group),
    gates: [...ok.map((g) => g.gate), {
      kind: 'scope', label, passed: true,
      detail: `tested on ${ok.map((g) => g.group).join(', ')}; left out (inconclusive there): ${bad.map((g) => `${g.group} (${g.gate.detail})`).join('; ')}`,
    }],
  };
}

/**
 * Whether a budget runs the long runs of arms at chance. `quick` is a preview whose dense nets are far
 * from converged (its trained verdicts are inconclusive whatever a long run shows), so it skips them
 * and the long-run gate reports 'no long run'; every other budget runs them. Undefined: run them.
 */
export function longRunsAt(budget: Budget | undefined): boolean {
  return budget !== 'quick';
}

/**
 * A finished or diverged training run, as the long-run rule reads it. `noPath`: its mask leaves no
 * input→output path (prune/effective.ts noPathAtLayerLevel), so it is a constant predictor whatever
 * the training; unset where the study does not know.
 */
export interface RunAcc { acc: number; outcome: string; noPath?: boolean }

/** What the long-run rule found for one arm. */
export type LongRunStatus = 'above chance' | 'slow' | 'untrainable' | 'no path' | 'no long run' | 'long runs incomplete' | 'no finished run';

/** Finished runs (diverged, failed and non-finite runs are the divergence gate's business). */
function finishedRuns<R extends RunAcc>(runs: readonly R[]): R[] {
  return runs.filter((r) => r.outcome !== 'diverged' && r.outcome !== 'error' && Number.isFinite(r.acc));
}

/** Finished runs' accuracies. */
function finishedAccs(runs: readonly RunAcc[]): number[] {
  return finishedRuns(runs).map((r) => r.acc);
}

/** An arm sits at chance when the mean final accuracy of its finished runs is at most chance + band. */
export function sitsAtChance(runs: readonly RunAcc[], chance: number, band: number): boolean {
  const a = finishedAccs(runs);
  return a.length > 0 && mean(a) <= chance + band + EPS;
}

/** Every finished run's mask leaves no input→output path (RunAcc.noPath): the arm cannot leave chance, however long it trains. */
export function noPathInEveryRun(runs: readonly RunAcc[]): boolean {
  const done = finishedRuns(runs);
  return done.length > 0 && done.every((r) => r.noPath === true);
}

/** An arm needs long runs when it sits at chance after the budget and some run's mask still connects input to output. */
export function needsLongRun(runs: readonly RunAcc[], o: ChanceBand): boolean {
  return sitsAtChance(runs, o.chance, o.band) && !noPathInEveryRun(runs);
}

/**
 * The long-run rule for one arm: its runs at the budget and those of its long runs that exist.
 * Long runs come in two stages (stagedLongRuns): first the arm's first run alone; only when that run
 * leaves chance are the arm's other runs re-trained. So:
 * - budget runs above chance: 'above chance' (no long run needed);
 * - at chance, and every run's mask leaves no input→output path: 'no path' (untrainable by
 *   construction: a long run could only confirm it, so none is run);
 * - no finished long run: 'no long run' (slow or untrainable: cannot tell);
 * - the long runs (one or all) still at chance: 'untrainable' at the long schedule;
 * - the first long run left chance but the others are not re-trained yet: 'long runs incomplete';
 * - every run re-trained and above chance: 'slow' (slow to take off, not untrainable).
 * `read` is what a claim reads for the arm: the long runs of a slow arm (so its verdict rests on what
 * they show), the budget runs otherwise (an untrainable arm sits at chance either way).
 */
export function longRunRule<R extends RunAcc>(budget: readonly R[], long: readonly R[], o: ChanceBand): { status: LongRunStatus; read: R[] } {
  const b = finishedAccs(budget), l = finishedAccs(long);
  const status: LongRunStatus = b.length === 0 ? 'no finished run'
    : !sitsAtChance(budget, o.chance, o.band) ? 'above chance'
      : noPathInEveryRun(budget) ? 'no path'
        : l.length === 0 ? 'no long run'
          : sitsAtChance(long, o.chance, o.band) ? 'untrainable'
            : long.length < budget.length ? 'long runs incomplete' : 'slow';
  return { status, read: status === 'slow' ? [...long] : [...budget] };
}

/**
 * The long runs to compute now, in two stages (a long run costs several budget runs, and most arms at
 * chance stay there): of each arm at chance (`arms`: its long-run jobs, first run first, e.g. Object.values(armsBy(...))), its first
 * job; once that run's outcome is known (`outcome`, undefined while not computed) and it left chance,
 * the arm's other jobs too. `waiting`: arms whose first long run is not computed yet.
 */
export function stagedLongRuns<J>(arms: ReadonlyArray<readonly J[]>, outcome: (job: J) => RunAcc | undefined, o: ChanceBand): { jobs: J[]; waiting: number } {
  const jobs: J[] = [];
  let waiting = 0;
  for (const a of arms) {
    if (a.length === 0) continue;
    const first = outcome(a[0]);
    jobs.push(...(first !== undefined && !sitsAtChance([first], o.chance, o.band) ? a : [a[0]]));
    if (first === undefined && a.length > 1) waiting++;
  }
  return { jobs, waiting };
}

/** Run the long runs of `arms` (stagedLongRuns' two stages) through `run`; every stage's results, in the order run. */
export async function runStagedLongRuns<J, R extends RunAcc>(arms: ReadonlyArray<readonly J[]>, run: (jobs: J[]) => Promise<R[]>, o: ChanceBand): Promise<{ jobs: J[]; results: R[] }> {
  const firsts = arms.filter((a) => a.length > 0).map((a) => a[0]);
  if (firsts.length === 0) return { jobs: [], results: [] };
  const r1 = await run(firsts);
  const got = new Map(firsts.map((j, i) => [j, r1[i]]));
  const rest = stagedLongRuns(arms, (j) => got.get(j), o).jobs.filter((j) => !got.has(j));
  return { jobs: [...firsts, ...rest], results: [...r1, ...(rest.length ? await run(rest) : [])] };
}

/**
 * The long-run rule (longRunRule) over the arms of a claim: each arm's runs at the budget and its long
 * runs with the converged (long) schedule of the dense reference (the same configs with `longEpochs`;
 * empty when not run). The gate passes unless some arm at chance has no long run, or its first long run
 * left chance and the others are missing; its detail gives each arm at chance with its numbers.
 */
export function chanceLongRun<R extends RunAcc>(label: string, arms: Record<string, { budget: readonly R[]; long: readonly R[] }>,
  o: ChanceBand & { budgetEpochs: number; longEpochs: number }): { gate: Gate; read: Record<string, R[]>; status: Record<string, LongRunStatus> } {
  if (!(o.chance >= 0 && o.chance < 1) || !(o.band >= 0)) throw new Error(`chanceLongRun: chance must be in [0, 1) and band >= 0, got ${o.chance}, ${o.band}.`);
  if (!(Number.isInteger(o.budgetEpochs) && o.budgetEpochs >= 1 && Number.isInteger(o.longEpochs) && o.longEpochs > o.budgetEpochs)) {
    throw new Error(`chanceLongRun: longEpochs must be an integer > budgetEpochs >= 1, got ${o.longEpochs} and ${o.budgetEpochs}.`);
  }
  const names = Object.keys(arms);
  if (names.length === 0) throw new Error('chanceLongRun: give at least one arm.');
  const read: Record<string, R[]> = {}, status: Record<string, LongRunStatus> = {}, lines: string[] = [];
  for (const name of names) {
    const { budget, long } = arms[name];
    if (!Array.isArray(budget) || !Array.isArray(long)) throw new Error(`chanceLongRun: arm '${name}' needs { budget: runs[], long: runs[] }.`);
    const r = longRunRule(budget, long, o);
    read[name] = r.read; status[name] = r.status;
    const b = finishedAccs(budget), l = finishedAccs(long);
    const runs = `(${l.length} of ${budget.length} run${budget.length === 1 ? '' : 's'})`;
    if (r.status === 'no path') lines.push(`${name} ${pct(mean(b))} after x${o.budgetEpochs}: no input-output path in any run's mask (${b.length} of ${budget.length}): untrainable by construction, no long run needed`);
    else if (r.status === 'no long run') lines.push(`${name} ${pct(mean(b))} after x${o.budgetEpochs}, no long run (slow or untrainable: cannot tell)`);
    else if (r.status === 'untrainable') lines.push(`${name} ${pct(mean(b))} → ${pct(mean(l))} ${runs}: stays at chance: untrainable at x${o.longEpochs}`);
    else if (r.status === 'slow') lines.push(`${name} ${pct(mean(b))} → ${pct(mean(l))} ${runs}: slow, not untrainable (read at x${o.longEpochs})`);
    else if (r.status === 'long runs incomplete') lines.push(`${name} ${pct(mean(b))} → ${pct(mean(l))} ${runs}: left chance, the other runs not re-trained yet`);
  }
  const atChance = names.filter((n) => ['slow', 'untrainable', 'no path', 'no long run', 'long runs incomplete'].includes(status[n]));
  const missing = names.filter((n) => status[n] === 'no long run' || status[n] === 'long runs incomplete');
  const rule = `at chance = mean ≤ ${pct(o.chance + o.band)}`;
  return {
    gate: {
      kind: 'chance-long-run', label, passed: missing.length === 0,
      detail: atChance.length === 0
        ? `no arm at chance after x${o.budgetEpochs} (${rule}) of ${names.length}: no long run needed`
        : `${atChance.length} of ${names.length} arms at chance after x${o.budgetEpochs} (${rule}), re-trained x${o.longEpochs} (first run; all runs if it leaves chance; none where no run's mask connects input to output): ${lines.join('; ')}`,
    },
    read, status,
  };
}

export type Gates = readonly Gate[] | 'no training';

/** 'passed' | 'failed' | 'no training', for tables. */
export function gateStatus(gates: Gates): 'passed' | 'failed' | 'no training' {
  if (gates === 'no training') return 'no training';
  return gates.every((g) => g.passed) ? 'passed' : 'failed';
}

/** The failing gates as one sentence (empty when none fail). */
export function gateFailures(gates: Gates): string {
  if (gates === 'no training') return '';
  return gates.filter((g) => !g.passed).map((g) => `${g.label}: ${g.detail}`).join('; ');
}

/** Mean final accuracies of finished runs, with diverged runs counted apart (never averaged in). */
export function splitDiverged<T extends { outcome: string; finalTestAcc: number }>(runs: readonly T[]): { accs: number[]; diverged: number; runs: number } {
  const ok = runs.filter((r) => r.outcome !== 'diverged' && Number.isFinite(r.finalTestAcc));
  return { accs: ok.map((r) => r.finalTestAcc), diverged: runs.length - ok.length, runs: runs.length };
}
