/**
 * Sweep progress: what a sweep reports (SweepProgress), a one-line text bar for sweeps run from a
 * terminal (stderr is a TTY), and the display a study's caller supplies (ProgressFactory: the
 * notebook toolkit's progress() is one) with the callback that feeds it from a sweep.
 */

export interface SweepProgress {
  /** Configs finished (cached + computed + failed), out of `total` distinct configs. */
  done: number;
  total: number;
  cached: number;
  failed: number;
  running: number;
  /** Remaining time from the throughput of computed configs so far; null before the first one. */
  etaSeconds: number | null;
  /** Key of the config that finished last (null at the start). */
  lastKey: string | null;
}

export function formatSeconds(s: number | null): string {
  if (s === null || !Number.isFinite(s)) return '?';
  const r = Math.round(s);
  if (r < 60) return `${r}s`;
  if (r < 3600) return `${Math.floor(r / 60)}m${String(r % 60).padStart(2, '0')}s`;
  return `${Math.floor(r / 3600)}h${String(Math.floor((r % 3600) / 60)).padStart(2, '0')}m`;
}

export function progressLine(p: SweepProgress, width = 24): string {
  const frac = p.total ? p.done / p.total : 1;
  const fill = Math.round(frac * width);
  return `[${'#'.repeat(fill)}${'.'.repeat(width - fill)}] ${p.done}/${p.total}` +
    ` (${p.cached} cached, ${p.running} running${p.failed ? `, ${p.failed} failed` : ''}) eta ${formatSeconds(p.etaSeconds)}`;
}

/** Returns an onProgress handler drawing on `stream`, and `end()` to finish the line. */
export function terminalProgress(stream: NodeJS.WriteStream = process.stderr): { update: (p: SweepProgress) => void; end: () => void } {
  let last = 0;
  let pending: SweepProgress | null = null;
  let drawn = false;
  let timer: NodeJS.Timeout | null = null;
  const draw = (p: SweepProgress) => {
    if (timer) { clearTimeout(timer); timer = null; }
    stream.write(`\r${progressLine(p)}\x1b[K`);
    drawn = true;
    last = Date.now();
    pending = null;
  };
  return {
    update(p) {
      // Throttle redraws to ~10 per second, but always draw the final state.
      if (p.done === p.total || Date.now() - last > 100) { draw(p); return; }
      pending = p;
      if (!timer) { timer = setTimeout(() => { if (pending) draw(pending); }, 100); timer.unref(); }
    },
    end() {
      if (pending) draw(pending);
      if (drawn) stream.write('\n');
    },
  };
}

/** A progress display: runs done out of the total it was made with. */
export interface ProgressHandle { set(done: number, note?: string): void; finish(note?: string): void }
/** Makes a progress display for `total` runs, e.g. the notebook toolkit's progress(total, label). */
export type ProgressFactory = (total: number, label: string) => ProgressHandle;

/**
 * A sweep's onProgress callback drawing one display from `factory` (none: draws nothing), made at
 * the first report, when the number of distinct configs is known, and finished when every config is
 * done; end() finishes it if the sweep stopped early. `note` is the text shown after the counts.
 */
export function sweepProgressTo(factory: ProgressFactory | undefined, label: string,
  note: (p: SweepProgress) => string | undefined = (p) => `${p.cached} cached${p.failed ? `, ${p.failed} failed` : ''}`): ((p: SweepProgress) => void) & { end(): void } {
  let bar: ProgressHandle | null = null;
  let open = false;
  const close = () => {
    if (open) bar?.finish();
    open = false;
  };
  const onProgress = ((p: SweepProgress) => {
    if (!factory) return;
    if (!bar) { bar = factory(p.total, label); open = true; }
    bar.set(p.done, note(p));
    if (p.done === p.total) close();
  }) as ((p: SweepProgress) => void) & { end(): void };
  onProgress.end = close;
  return onProgress;
}

/**
 * Runs `sweep` with an onProgress callback drawing one `factory` display labelled `label`
 * (sweepProgressTo, with its `note`), finished when the sweep returns or throws. The studies' run
 * functions all take `{ progress?: ProgressFactory }` and report through this, so a notebook passes
 * `pai.progress` to any of them.
 */
export async function withSweepProgress<T>(factory: ProgressFactory | undefined, label: string, sweep: (onProgress: (p: SweepProgress) => void) => Promise<T>,
  note?: (p: SweepProgress) => string | undefined): Promise<T> {
  const onProgress = sweepProgressTo(factory, label, note);
  try { return await sweep(onProgress); } finally { onProgress.end(); }
}
