/**
 * Inference timing of the reduced-vs-pruned study: the base, the physically compressed pruned
 * architectures and the reduced nets, per backend variant and batch size (timing.ts measures).
 */
import type { WrnConfig } from '../models';
import { wrnCost, wrnInterior } from '../structured/families';
import { availableBackendVariants, BackendVariant, timeArchitectures, TimingJob, TimingRow } from './timing';
import type { Criterion, RvpPlan } from './rvp-plan';
import { checkpointAt, CRIT_NAME, kShort } from './rvp-jobs';
import type { RvpFamily } from './rvp-jobs';
import type { ProgressFactory } from '../engine';
import type { RvpRun } from './rvp-run';

/** A timed architecture with what it is (for verdict 4 and the latency figure). */
export interface RvpTimingRow extends TimingRow {
  family: RvpFamily;
  criterion: Criterion | null;
  budget: number;
  params: number;
  macs: number;
  interior: number[];
}

/**
 * What to time: the base, and at every matched budget the physically compressed pruned
 * architectures (both criteria, first seed's run) and the reduced members. Random weights.
 */
export function timingJobs(p: RvpPlan, run: Pick<RvpRun, 'prune'>): Array<TimingJob & Omit<RvpTimingRow, keyof TimingRow>> {
  const shape = { inputShape: p.inputShape, numClasses: p.numClasses };
  const mk = (family: RvpFamily, criterion: Criterion | null, budget: number, label: string, interior: number[], depth = p.base.depth, widthFactor = p.base.widthFactor) => {
    const config: WrnConfig = { arch: 'wrn', depth, widthFactor, ...(interior.length ? { interior } : {}) };
    const cost = wrnCost(config, shape);
    return { label, config, ...shape, family, criterion, budget, params: cost.params, macs: cost.macs, interior: wrnInterior(config) };
  };
  const jobs = [mk('base', null, p.baseParams, `WRN-${p.base.depth}-${p.base.widthFactor}`, [])];
  const firstSeed = Math.min(...run.prune.map((r) => r.config.seed));
  const matchedBudgets = [...new Set([...p.budgets, ...p.reduced.map((m) => m.budget)])];
  for (const { config, result } of run.prune.filter((r) => r.config.seed === firstSeed)) {
    for (const b of matchedBudgets) {
      const cp = checkpointAt(result, b);
      if (cp) jobs.push(mk('pruned-tuned', config.prune.criterion, b, `${CRIT_NAME[config.prune.criterion]}-pruned @ ${kShort(b)}`, cp.interior));
    }
  }
  for (const m of p.reduced) jobs.push(mk(m.family, null, m.budget, m.label, m.model.interior, m.model.depth, m.model.widthFactor));
  return jobs;
}

/** Backend variants to time under the plan: the current one, or every available one. */
export function timingVariants(p: Pick<RvpPlan, 'timing'>): BackendVariant[] {
  const all = availableBackendVariants();
  const v = p.timing.variants;
  if (v === 'current') return all.slice(0, 1);
  if (v === 'all') return all;
  const picked = all.filter((x) => v.includes(x.label));
  return picked.length ? picked : all.slice(0, 1);
}

/** Time the study's architectures (warm-up, then the median of repeats; output read back). */
export async function runTiming(p: RvpPlan, run: Pick<RvpRun, 'prune'>, o: { variants?: BackendVariant[]; progress?: ProgressFactory } = {}): Promise<RvpTimingRow[]> {
  return timeStudyJobs(timingJobs(p, run), p, o);
}

/** Time labelled jobs under the plan's timing settings; each row carries its job's family, budget and cost. */
export async function timeStudyJobs(jobs: Array<TimingJob & Omit<RvpTimingRow, keyof TimingRow>>, p: Pick<RvpPlan, 'timing'>, o: { variants?: BackendVariant[]; progress?: ProgressFactory; label?: string } = {}): Promise<RvpTimingRow[]> {
  const variants = o.variants ?? timingVariants(p);
  const bar = o.progress?.(jobs.length * variants.length * p.timing.batchSizes.length, o.label ?? 'inference timing');
  let done = 0;
  const rows = await timeArchitectures(jobs, {
    variants, batchSizes: p.timing.batchSizes, warmup: p.timing.warmup, repeats: p.timing.repeats,
    onMeasured: (r) => bar?.set(++done, `${r.variant} ${r.label} b=${r.batchSize}`),
  });
  bar?.finish();
  const byLabel = new Map(jobs.map((j) => [j.label, j]));
  return rows.map((r) => {
    const j = byLabel.get(r.label)!;
    return { ...r, family: j.family, criterion: j.criterion, budget: j.budget, params: j.params, macs: j.macs, interior: j.interior };
  });
}
