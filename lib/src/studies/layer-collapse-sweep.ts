/**
 * How notebook 01's sweeps fail (entry module layer-collapse.ts): one error naming the first failed
 * run. Their progress displays: engine/progress.ts (sweepProgressTo).
 */
import type { SweepRecord } from '../engine';

export function okResults<R>(records: SweepRecord<R>[], what: string): Array<{ config: Record<string, unknown>; result: R }> {
  const bad = records.filter((r) => r.status === 'error');
  if (bad.length) {
    const e = bad[0] as Extract<SweepRecord, { status: 'error' }>;
    throw new Error(`layer-collapse: ${bad.length} of ${records.length} ${what} runs failed; first (${e.key}): ${e.error.message}`);
  }
  return records.map((r) => ({ config: (r as { config: Record<string, unknown> }).config, result: (r as { result: R }).result }));
}
