/**
 * The one divergence rule, applied by the one training loop (training-run.ts, under train, MaskedRun
 * and prune-and-tune): a run has diverged when a training step's loss is not finite, or exceeds
 * DIVERGENCE_LOSS_FACTOR times the run's first finite loss. Cross-entropy at initialisation is about ln(classes) (2.3 for 10 classes)
 * and falls from there; a loss 100 times that has left any useful basin (a finite loss of 3e31 was
 * seen reported as 'ok' before this rule). Diverged runs are kept as records with outcome
 * 'diverged', counted and shown, and excluded from means (engine aggregate, study summaries).
 */

/** Loss above this multiple of the run's first finite loss counts as diverged. */
export const DIVERGENCE_LOSS_FACTOR = 100;

export type DivergenceReason = 'non-finite' | 'exploded';

/** Why `loss` means divergence given the run's first finite loss (null if not diverged). */
export function divergedLoss(loss: number, initialLoss: number | null, factor = DIVERGENCE_LOSS_FACTOR): DivergenceReason | null {
  if (!Number.isFinite(loss)) return 'non-finite';
  if (initialLoss !== null && Number.isFinite(initialLoss) && loss > factor * Math.max(initialLoss, Number.MIN_VALUE)) return 'exploded';
  return null;
}

/** Per-run state of the rule: remembers the first finite loss. */
export class DivergenceWatch {
  initialLoss: number | null = null;
  constructor(readonly factor = DIVERGENCE_LOSS_FACTOR) {}

  /** Check one step's loss; the first finite loss becomes the reference. */
  check(loss: number): DivergenceReason | null {
    const why = divergedLoss(loss, this.initialLoss, this.factor);
    if (why === null && this.initialLoss === null) this.initialLoss = loss;
    return why;
  }

  /** A one-line description for errors and records. */
  describe(loss: number, why: DivergenceReason): string {
    return why === 'non-finite' ? `loss became ${loss}`
      : `loss ${loss.toPrecision(4)} exceeded ${this.factor} x the first loss ${this.initialLoss!.toPrecision(4)}`;
  }
}
