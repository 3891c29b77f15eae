/**
 * progress(total, label): a live "runs done / ETA" display that updates in place in a notebook
 * (one display id, update_display_data messages) and a one-line bar on stderr in a terminal.
 */
import { displayBundle, escapeHtml, inNotebook, newDisplayId } from './display';
import type { ProgressHandle } from '../engine/progress';

export interface ProgressOptions {
  /** Minimum ms between display refreshes (default 500); the final state is always shown. */
  minIntervalMs?: number;
  /** Clock in ms (tests). */
  now?: () => number;
  /** Where the terminal bar goes (default process.stderr); drawn only if it is a TTY. */
  stream?: { isTTY?: boolean; write(s: string): unknown };
  /** Force the notebook display on/off (default: on inside a tslab kernel, or when a display sink is set). */
  notebook?: boolean;
}

export interface ProgressState {
  label: string;
  done: number;
  total: number;
  elapsedMs: number;
  /** Estimated ms left (linear in runs), null before the first run completes. */
  etaMs: number | null;
  note?: string;
}

/** Call with the number of runs just finished (default 1); `.finish()` when done. A ProgressHandle (engine/progress.ts). */
export interface ProgressUpdater extends ProgressHandle {
  (increment?: number, note?: string): void;
  /** Set the absolute number of runs done. */
  set(done: number, note?: string): void;
  /** Mark complete (done = total unless fewer were run) and draw the final state. */
  finish(note?: string): void;
  state(): ProgressState;
}

/** 75 -> "1m15s", 3725 -> "1h02m", 9.4 -> "9s". */
export function formatDuration(ms: number): string {
  if (!Number.isFinite(ms) || ms < 0) return '?';
  const s = Math.round(ms / 1000);
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m${String(s % 60).padStart(2, '0')}s`;
  const h = Math.floor(m / 60);
  return `${h}h${String(m % 60).padStart(2, '0')}m`;
}

export function progressText(st: ProgressState): string {
  const pct = st.total > 0 ? Math.floor((100 * st.done) / st.total) : 100;
  const eta = st.done >= st.total ? 'done' : st.etaMs === null ? 'ETA ?' : `ETA ${formatDuration(st.etaMs)}`;
  return `${st.label}: ${st.done}/${st.total} (${pct}%), elapsed ${formatDuration(st.elapsedMs)}, ${eta}${st.note ? ` — ${st.note}` : ''}`;
}

export function progressHtml(st: ProgressState): string {
  return `<div class="pai-progress"><progress value="${st.done}" max="${st.total}" style="width:20em;vertical-align:middle"></progress> ` +
    `<span style="font-family:monospace">${escapeHtml(progressText(st))}</span></div>`;
}

export function progressBar(st: ProgressState, width = 30): string {
  const filled = st.total > 0 ? Math.round((width * st.done) / st.total) : width;
  return `[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${progressText(st)}`;
}

export function progress(total: number, label: string, opts: ProgressOptions = {}): ProgressUpdater {
  if (!Number.isInteger(total) || total < 0) throw new Error(`progress: total must be a non-negative integer (number of runs), got ${total}.`);
  if (typeof label !== 'string' || label.length === 0) throw new Error('progress: give a label, e.g. progress(20, "training runs").');
  const now = opts.now ?? Date.now;
  const minInterval = opts.minIntervalMs ?? 500;
  const stream = opts.stream ?? process.stderr;
  const toNotebook = opts.notebook ?? inNotebook();
  const toTerminal = !toNotebook && !!stream.isTTY;
  const displayId = newDisplayId('pai-progress');
  const t0 = now();
  let done = 0;
  let note: string | undefined;
  let shownOnce = false;
  let lastDraw = -Infinity;
  let finished = false;

  const state = (): ProgressState => {
    const elapsedMs = now() - t0;
    const etaMs = done > 0 ? (elapsedMs / done) * Math.max(total - done, 0) : null;
    return { label, done, total, elapsedMs, etaMs, note };
  };

  const draw = (force: boolean) => {
    const t = now();
    if (!force && t - lastDraw < minInterval) return;
    lastDraw = t;
    const st = state();
    if (toNotebook) {
      displayBundle({ data: { 'text/html': progressHtml(st), 'text/plain': progressText(st) }, displayId, update: shownOnce });
      shownOnce = true;
    } else if (toTerminal) {
      stream.write(`\r${progressBar(st)}\x1b[K${finished ? '\n' : ''}`);
    }
  };

  const set = (d: number, n?: string) => {
    if (typeof d !== 'number' || !Number.isInteger(d) || d < 0) throw new Error(`progress '${label}': runs done must be a non-negative integer, got ${d}.`);
    if (d > total) throw new Error(`progress '${label}': ${d} runs done exceeds the total of ${total}; pass the right total to progress().`);
    done = d;
    if (n !== undefined) note = n;
    draw(done === total);
  };
  const updater = ((increment = 1, n?: string) => set(done + increment, n)) as ProgressUpdater;
  updater.set = set;
  updater.finish = (n?: string) => {
    if (n !== undefined) note = n;
    finished = true;
    draw(true);
  };
  updater.state = state;
  draw(true);
  return updater;
}

