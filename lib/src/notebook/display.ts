/**
 * Rich display in tslab notebooks: one display_data message carrying several MIME types.
 *
 * tslab's public `display.raw(mime, data)` sends a single MIME type per message. A figure needs
 * text/html (interactive) AND image/png (static fallback) in the SAME message, so the frontend
 * (JupyterLab, nbconvert, GitHub) picks what it can show. tslab keeps the current cell's sender in
 * `lastWriteDisplayData` of its `dist/jupyter.js` module; it takes the full Jupyter content
 * `{data, metadata, transient: {display_id}}` and an `update` flag (update_display_data).
 * We find that module in require.cache (the kernel has loaded it; we never load it ourselves, so
 * nothing heavy or native is required outside a notebook).
 */

/** A MIME bundle: MIME type -> text (binary data base64-encoded, as Jupyter expects). */
export type MimeBundle = Record<string, string>;

export interface DisplayMessage {
  data: MimeBundle;
  metadata?: Record<string, unknown>;
  /** Stable id: later messages with `update: true` and the same id replace the output in place. */
  displayId?: string;
  update?: boolean;
}

export type DisplaySink = (msg: DisplayMessage) => void;

type TslabWriter = (content: { data: MimeBundle; metadata: Record<string, unknown>; transient: { display_id?: string } }, update: boolean) => void;

function tslabWriter(): TslabWriter | null {
  for (const key of Object.keys(require.cache)) {
    if (!/[\\/]tslab[\\/]dist[\\/]jupyter\.js$/.test(key)) continue;
    const w = (require.cache[key]?.exports as { lastWriteDisplayData?: unknown } | undefined)?.lastWriteDisplayData;
    if (typeof w === 'function') return w as TslabWriter;
  }
  return null;
}

/** True when running inside a tslab kernel that is executing (or has executed) a cell. */
export function inNotebook(): boolean {
  return tslabWriter() !== null;
}

/** Outside a notebook: print the text/plain part (updates are skipped: they would repeat). */
const terminalSink: DisplaySink = (msg) => {
  if (msg.update) return;
  const text = msg.data['text/plain'];
  if (text !== undefined) process.stdout.write(text.endsWith('\n') ? text : text + '\n');
};

let customSink: DisplaySink | null = null;

/** Replace where displays go (tests, other frontends); null restores the default. Returns the previous sink. */
export function setDisplaySink(sink: DisplaySink | null): DisplaySink | null {
  const prev = customSink;
  customSink = sink;
  return prev;
}

/** Send one display message (all MIME types together) to the notebook, or text to the terminal. */
export function displayBundle(msg: DisplayMessage): void {
  if (!msg.data || Object.keys(msg.data).length === 0) {
    throw new Error('displayBundle: the MIME bundle is empty; give at least {"text/plain": "..."}.');
  }
  for (const [mime, v] of Object.entries(msg.data)) {
    if (typeof v !== 'string') throw new Error(`displayBundle: data['${mime}'] must be a string (base64 for binary), got ${typeof v}.`);
  }
  if (customSink) return customSink(msg);
  const w = tslabWriter();
  if (!w) return terminalSink(msg);
  w({ data: msg.data, metadata: msg.metadata ?? {}, transient: msg.displayId ? { display_id: msg.displayId } : {} }, !!msg.update);
}

let idCounter = 0;
/** A display id unique within this process (and, with high probability, across kernels). */
export function newDisplayId(prefix = 'pai'): string {
  idCounter += 1;
  return `${prefix}-${process.pid.toString(36)}-${Date.now().toString(36)}-${idCounter}-${Math.random().toString(36).slice(2, 8)}`;
}

const HTML_ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };
export function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => HTML_ESCAPES[c]);
}

/** Display HTML with a plain-text alternative. */
export function showHtml(html: string, text = ''): void {
  displayBundle({ data: { 'text/html': html, 'text/plain': text || html.replace(/<[^>]*>/g, '') } });
}

/** Display Markdown with a plain-text alternative. */
export function showMarkdown(markdown: string): void {
  displayBundle({ data: { 'text/markdown': markdown, 'text/plain': markdown } });
}
