/**
 * "Dissipating gradients" — the project's reading of Haroon (arXiv 2209.02201) abstract: "remove
 * weights that stay within a fraction of their initial value during the first couple of epochs".
 * Nothing below is the paper's exact procedure (its body is not available); every constant is the
 * project's choice, exposed as an option.
 *
 * The net trains from W0 (dense, or already masked, e.g. a K-starts winner). After each of the first
 * E_d epochs, live weights are ranked by their relative change from init
 *     r = |w_t - w0| / (|w0| + eps_l),   eps_l = epsScale * RMS(W0 of layer l)
 * and the smallest r are pruned. With plain SGD, w_t - w0 = -lr * sum_s g_s: a small r means the
 * weight's gradients cancel out ("dissipate") relative to its size. The eps guard is scale-free:
 * a weight with w0 ~ 0 is judged against 1% (default) of its layer's typical initial size, instead
 * of getting an infinite r that would make it unprunable.
 *   rule 'exact' (default): prune to a density schedule that reaches 1 - p exactly at epoch E_d:
 *     'geometric' (default) d_t = d0 (d_end/d0)^(t/E_d) (the same fraction of live weights each epoch),
 *     'cubic' (Zhu & Gupta 2017) d_t = d_end + (d0 - d_end)(1 - t/E_d)^3, 'linear', or 'oneshot'
 *     (all pruning at epoch E_d).
 *   rule 'threshold': prune every live weight with |w_t - w0| <= alpha |w0| (no eps: the literal
 *     rule), epoch after epoch, until the kept count reaches the target (the last step keeps the
 *     largest-r candidates so the count is exact); reports how many epochs that took.
 * After the target is reached, training continues with the mask fixed (no rewinding). Pruned weights
 * are never revived (dead weights score -Infinity and the kept count never exceeds the live count).
 * `score: 'magnitude'` ranks by |w_t| instead of r: with schedule 'oneshot' this is the
 * "magnitude at epoch E_d" baseline for the "despite their magnitude" contrast. `score:
 * 'absolute-change'` ranks by |w_t - w0| (a sensitivity check of the reading: r prunes large, slowly
 * moving initial weights first, i.e. it runs against magnitude).
 */
import type { Mask } from '../mask';
import type { KeepCounts, Scope } from '../prune/scores-to-mask';
import { checkSparsity, keepCounts, scoresToMask } from '../prune/scores-to-mask';
import { shapesOf } from '../prune/score';
import type { MaskedRun } from './masked-run';
import { layerEps, relativeChanges } from './select';

export type DissipationSchedule = 'geometric' | 'cubic' | 'linear' | 'oneshot';
export type DissipationRule = 'exact' | 'threshold';
export type DissipationScore = 'relative-change' | 'absolute-change' | 'magnitude';

export interface DissipatingOptions {
  /** Target sparsity p (fraction removed). */
  sparsity: number;
  /** E_d: epochs over which the exact rule prunes (default 2, "the first couple of epochs"). */
  epochs?: number;
  /** Density schedule of the exact rule (default 'geometric'). */
  schedule?: DissipationSchedule;
  /** 'exact' ranking to a schedule (default) or the literal 'threshold' rule. */
  rule?: DissipationRule;
  /** Threshold rule: prune |w_t - w0| <= alpha |w0| (default 0.1). */
  alpha?: number;
  /** Threshold rule: give up after this many epochs (default: all remaining epochs of the run). */
  maxEpochs?: number;
  /** Ranking quantity: 'relative-change' r (default), 'absolute-change' |w_t - w0|, or 'magnitude' |w_t| (baseline). */
  score?: DissipationScore;
  /**
   * Scope of the ranking and of the target count. Default 'layerwise': every layer ends at density
   * 1 - p like the random baseline, so the comparison isolates which weights are kept from how many
   * per layer (global ranking of r emptied the output layer of a small MLP in trials).
   */
  scope?: Scope;
  /** eps_l = epsScale * RMS(W0_l) (default 0.01). */
  epsScale?: number;
  /** Called at every pruning step with what the decision saw (tests, notebooks). */
  onPrune?: (e: DissipationPruneEvent) => void;
}

export const DISSIPATING_DEFAULTS = {
  epochs: 2, schedule: 'geometric', rule: 'exact', alpha: 0.1, score: 'relative-change', scope: 'layerwise', epsScale: 0.01,
} as const;

export interface DissipationPruneEvent {
  /** 1-based global epoch after which the pruning happened. */
  epoch: number;
  /** Raw prunable weights w_t the decision used. */
  weights: Map<string, Float32Array>;
  w0: Map<string, Float32Array>;
  eps: Map<string, number>;
  before: Mask;
  after: Mask;
}

export interface DissipationEpoch {
  epoch: number;
  /** Kept count and density after this epoch's pruning. */
  kept: number;
  density: number;
  perLayerDensity: Record<string, number>;
  /** Per layer: mean r of the weights live before pruning, of those pruned now, of those kept. */
  meanR: Record<string, number | null>;
  meanRPruned: Record<string, number | null>;
  meanRKept: Record<string, number | null>;
  prunedNow: number;
  /** Threshold rule: live weights that met |dw| <= alpha |w0| this epoch (before the cap at the target). */
  thresholdCandidates?: number;
  testAcc: number | null;
}

export interface DissipationReport {
  rule: DissipationRule;
  schedule: DissipationSchedule | null;
  /** Density targets per pruning epoch (exact rule): one list (global scope) or one per layer. */
  densityTargets: number[] | Record<string, number[]> | null;
  /** Whether the target sparsity was reached. */
  reached: boolean;
  /** Epochs of this phase until the target was reached (null if never). */
  epochsToTarget: number | null;
  /** 1-based global epoch at which the target was reached (null if never). */
  targetEpoch: number | null;
  /** Test accuracy just before / right after the pruning step that reached the target. */
  accBeforeTargetPrune: number | null;
  accAtTarget: number | null;
  epochs: DissipationEpoch[];
  /** Per layer: weights whose |w0| < eps_l (their r is eps-guarded). */
  epsGuarded: Record<string, number>;
  eps: Record<string, number>;
  startDensity: number;
  finalDensity: number;
}

/** Density after each of E_d pruning epochs, from d0 to dEnd (last entry exactly dEnd). */
export function dissipationDensitySchedule(kind: DissipationSchedule, d0: number, dEnd: number, ed: number): number[] {
  if (!Number.isInteger(ed) || ed < 1) throw new Error(`dissipationDensitySchedule: E_d must be a positive integer, got ${ed}.`);
  if (!(d0 > 0 && d0 <= 1 && dEnd > 0 && dEnd <= d0)) throw new Error(`dissipationDensitySchedule: need 0 < dEnd (${dEnd}) <= d0 (${d0}) <= 1.`);
  const out: number[] = [];
  for (let t = 1; t <= ed; t++) {
    const f = t / ed;
    switch (kind) {
      case 'geometric': out.push(d0 * Math.pow(dEnd / d0, f)); break;
      case 'cubic': out.push(dEnd + (d0 - dEnd) * Math.pow(1 - f, 3)); break;
      case 'linear': out.push(d0 + (dEnd - d0) * f); break;
      case 'oneshot': out.push(t === ed ? dEnd : d0); break;
      default: throw new Error(`Unknown density schedule '${kind as string}': use geometric, cubic, linear or oneshot.`);
    }
  }
  out[ed - 1] = dEnd;
  return out;
}

function resolve(o: DissipatingOptions) {
  checkSparsity(o.sparsity);
  const r = { ...DISSIPATING_DEFAULTS, ...stripUndefined(o) } as Required<Omit<DissipatingOptions, 'onPrune' | 'maxEpochs'>> & DissipatingOptions;
  if (!Number.isInteger(r.epochs) || r.epochs < 1) throw new Error(`dissipating: epochs (E_d) must be a positive integer, got ${r.epochs}.`);
  if (!['exact', 'threshold'].includes(r.rule)) throw new Error(`dissipating: rule must be 'exact' or 'threshold', got '${r.rule}'.`);
  if (!['relative-change', 'absolute-change', 'magnitude'].includes(r.score)) throw new Error(`dissipating: score must be 'relative-change', 'absolute-change' or 'magnitude', got '${r.score}'.`);
  if (!(r.alpha >= 0) || !Number.isFinite(r.alpha)) throw new Error(`dissipating: alpha must be a finite number >= 0, got ${r.alpha}.`);
  if (!(r.epsScale >= 0) || !Number.isFinite(r.epsScale)) throw new Error(`dissipating: epsScale must be a finite number >= 0, got ${r.epsScale}.`);
  if (r.rule === 'threshold' && r.score !== 'relative-change') throw new Error(`dissipating: the threshold rule tests |w_t - w0| <= alpha |w0|; use score 'relative-change' with it.`);
  return r;
}

export function stripUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}

/** Kept count per prunable kernel. */
function liveCounts(m: Mask): Map<string, number> {
  return new Map(m.perLayer().map((l) => [l.name, l.kept]));
}

/**
 * Run the dissipating-gradients phase on `run` from its current epoch: train, prune after each
 * epoch, until the target is reached (exact: after E_d epochs). The caller then trains the rest with
 * the mask fixed. `w0` are the dense initial values of the prunable kernels (before any mask).
 */
export function dissipate(run: MaskedRun, w0: Map<string, Float32Array>, opts: DissipatingOptions): DissipationReport {
  const o = resolve(opts);
  const net = run.net;
  const total = run.cfg.epochs;
  const remaining = total - run.epochsDone;
  const budget = o.rule === 'exact' ? o.epochs : Math.min(o.maxEpochs ?? remaining, remaining);
  if (o.rule === 'exact' && o.epochs > remaining) {
    throw new Error(`dissipating: E_d = ${o.epochs} pruning epochs but only ${remaining} of the ${total} training epochs remain; raise epochs or lower E_d.`);
  }
  if (budget < 1) throw new Error(`dissipating: no epochs left to prune in (${run.epochsDone} of ${total} done).`);
  for (const p of net.prunable) {
    const w = w0.get(p.name);
    if (!w || w.length !== p.size) throw new Error(`dissipating: w0 for ${p.name} missing or of wrong size.`);
  }
  const scope = o.scope;
  const start = run.maskOrOnes();
  const shapes = shapesOf(net);
  const target = keepCounts(shapes, o.sparsity, scope);
  const startLive = liveCounts(start);
  if (target.scope === 'global' ? start.kept < target.total : net.prunable.some((p) => startLive.get(p.name)! < target.perLayer.get(p.name)!)) {
    throw new Error(`dissipating: the starting mask (density ${start.density.toFixed(4)}) is already sparser than the target ${o.sparsity}.`);
  }
  const eps = new Map(net.prunable.map((p) => [p.name, layerEps(w0.get(p.name)!, o.epsScale)]));
  const epsGuarded: Record<string, number> = {};
  for (const p of net.prunable) {
    const w = w0.get(p.name)!, e = eps.get(p.name)!;
    let c = 0;
    for (let i = 0; i < w.length; i++) if (Math.abs(w[i]) < e) c++;
    epsGuarded[p.name] = c;
  }

  // Density targets (exact rule): per scope, from the live density at the start to 1 - p.
  const layerSchedules = new Map<string, number[]>();
  let globalSchedule: number[] | null = null;
  const nTotal = start.size;
  if (o.rule === 'exact') {
    if (target.scope === 'global') globalSchedule = dissipationDensitySchedule(o.schedule, start.kept / nTotal, target.total / nTotal, o.epochs);
    else for (const p of net.prunable) layerSchedules.set(p.name, dissipationDensitySchedule(o.schedule, startLive.get(p.name)! / p.size, target.perLayer.get(p.name)! / p.size, o.epochs));
  }
  const countsAt = (t: number, mask: Mask): KeepCounts => {
    // exact counts at step t; never above the live count (rounding), so nothing is revived
    if (target.scope === 'global') {
      const k = t === o.epochs ? target.total : Math.round(globalSchedule![t - 1] * nTotal);
      return { scope: 'global', total: Math.min(k, mask.kept) };
    }
    const per = new Map<string, number>(), live = liveCounts(mask);
    for (const p of net.prunable) {
      const k = t === o.epochs ? target.perLayer.get(p.name)! : Math.round(layerSchedules.get(p.name)![t - 1] * p.size);
      per.set(p.name, Math.min(k, live.get(p.name)!));
    }
    return { scope: 'layerwise', perLayer: per };
  };
  const reachedTarget = (m: Mask) => {
    if (target.scope === 'global') return m.kept === target.total;
    const live = liveCounts(m);
    return net.prunable.every((p) => live.get(p.name) === target.perLayer.get(p.name));
  };

  const epochs: DissipationEpoch[] = [];
  let reached = false, epochsToTarget: number | null = null, targetEpoch: number | null = null;
  let accBefore: number | null = null, accAt: number | null = null;
  for (let t = 1; t <= budget && !reached && !run.diverged; t++) {
    let info: Omit<DissipationEpoch, 'testAcc'> | null = null;
    let isTargetStep = false;
    run.runEpoch({
      afterTrain: () => {
        const before = run.maskOrOnes();
        const weights = net.getWeights();
        const scores = new Map<string, Float32Array>();
        const rOf = new Map<string, Float64Array>();
        const cand = new Map<string, Uint8Array>();
        let nCand = 0;
        for (const p of net.prunable) {
          const w = weights.get(p.name)!, z = w0.get(p.name)!, live = before.get(p.name);
          const r = relativeChanges(w, z, eps.get(p.name)!), s = new Float32Array(p.size), c = new Uint8Array(p.size);
          for (let i = 0; i < p.size; i++) {
            if (!live[i]) continue; // dead: out of the race (the previous mask of the selection)
            const dw = Math.abs(w[i] - z[i]);
            const v = o.score === 'magnitude' ? Math.abs(w[i]) : o.score === 'absolute-change' ? dw : r[i];
            // a non-finite live score ranks below every finite one
            s[i] = Number.isFinite(v) ? v : -3.4e38;
            if (o.rule === 'threshold' && dw <= o.alpha * Math.abs(z[i])) { c[i] = 1; nCand++; }
          }
          rOf.set(p.name, r); scores.set(p.name, s); cand.set(p.name, c);
        }
        let counts: KeepCounts;
        if (o.rule === 'exact') counts = countsAt(t, before);
        else {
          // non-candidates always stay (+Inf); candidates are pruned unless needed to stop at the target
          for (const p of net.prunable) {
            const s = scores.get(p.name)!, c = cand.get(p.name)!, live = before.get(p.name);
            for (let i = 0; i < p.size; i++) if (live[i] && !c[i]) s[i] = Infinity;
          }
          if (target.scope === 'global') counts = { scope: 'global', total: Math.max(target.total, before.kept - nCand) };
          else {
            const per = new Map<string, number>(), live = liveCounts(before);
            for (const p of net.prunable) {
              const c = cand.get(p.name)!;
              let nc = 0;
              for (let i = 0; i < c.length; i++) nc += c[i];
              per.set(p.name, Math.max(target.perLayer.get(p.name)!, live.get(p.name)! - nc));
            }
            counts = { scope: 'layerwise', perLayer: per };
          }
        }
        const after = scoresToMask(scores, counts, { shapes, previous: new Map(before.names.map((n) => [n, before.get(n)])) }).mask;
        isTargetStep = reachedTarget(after);
        if (isTargetStep) accBefore = run.evaluate().acc;
        opts.onPrune?.({ epoch: run.epochsDone, weights: new Map(net.prunable.map((p) => [p.name, weights.get(p.name)!])), w0, eps, before, after });
        run.setMask(after);
        const meanR: Record<string, number | null> = {}, meanRPruned: Record<string, number | null> = {}, meanRKept: Record<string, number | null> = {};
        for (const p of net.prunable) {
          const r = rOf.get(p.name)!, lb = before.get(p.name), la = after.get(p.name);
          let sl = 0, nl = 0, sp = 0, np = 0, sk = 0, nk = 0;
          for (let i = 0; i < p.size; i++) {
            if (!lb[i]) continue;
            sl += r[i]; nl++;
            if (la[i]) { sk += r[i]; nk++; } else { sp += r[i]; np++; }
          }
          meanR[p.name] = nl ? sl / nl : null; meanRPruned[p.name] = np ? sp / np : null; meanRKept[p.name] = nk ? sk / nk : null;
        }
        info = {
          epoch: run.epochsDone, kept: after.kept, density: after.density,
          perLayerDensity: Object.fromEntries(after.perLayer().map((l) => [l.name, l.density])),
          meanR, meanRPruned, meanRKept, prunedNow: before.kept - after.kept,
          ...(o.rule === 'threshold' ? { thresholdCandidates: nCand } : {}),
        };
      },
    });
    if (!info) break; // diverged during the epoch
    const rec = run.history[run.history.length - 1];
    let acc = rec.testAcc;
    if (isTargetStep) {
      if (acc === null) acc = run.evaluate().acc;
      reached = true; epochsToTarget = t; targetEpoch = run.epochsDone; accAt = acc;
    }
    epochs.push({ ...(info as Omit<DissipationEpoch, 'testAcc'>), testAcc: acc });
  }
  const fin = run.maskOrOnes();
  return {
    rule: o.rule, schedule: o.rule === 'exact' ? o.schedule : null,
    densityTargets: o.rule !== 'exact' ? null : globalSchedule ?? Object.fromEntries(layerSchedules),
    reached, epochsToTarget, targetEpoch, accBeforeTargetPrune: accBefore, accAtTarget: accAt, epochs,
    epsGuarded, eps: Object.fromEntries(eps), startDensity: start.density, finalDensity: fin.density,
  };
}
