/**
 * How notebook 01's sweeps report progress and fail (entry module layer-collapse.ts): the notebook's
 * progress bars, and one error naming the first failed run.
 */
import type { SweepProgress, SweepRecord } from '../engine';

export interface ProgressHandle { set(done: number, note?: string): void; finish(note?: string): void }
export type ProgressFactory = (total: number, label: string) => ProgressHandle;

export function sweepProgress(factory: ProgressFactory | undefined, total: number, label: string): ((p: SweepProgress) => void) & { end(): void } {
  const h = factory?.(total, label);
  const f = ((p: SweepProgress) => h?.set(p.done, `${p.cached} cached${p.failed ? `, ${p.failed} failed` : ''}`)) as ((p: SweepProgress) => void) & { end(): void };
  f.end = () => h?.finish();
  return f;
}

export function okResults<R>(records: SweepRecord<R>[], what: string): Array<{ config: Record<string, unknown>; result: R }> {
  const bad = records.filter((r) => r.status === 'error');
  if (bad.length) {
    const e = bad[0] as Extract<SweepRecord, { status: 'error' }>;
    throw new Error(`layer-collapse: ${bad.length} of ${records.length} ${what} runs failed; first (${e.key}): ${e.error.message}`);
  }
  return records.map((r) => ({ config: (r as { config: Record<string, unknown> }).config, result: (r as { result: R }).result }));
}
