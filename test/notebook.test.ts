import { strict as assert } from 'assert';
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import {
  barFigure, CHROMIUM_ARGS, chromiumPath, closeFigureExporter, DisplayMessage, exporterRunning, formatMeanSd, formatNumber,
  heatmapFigure, lineFigure, meanSd, notebookParams, parseBudget, parseSeeds, progress, readClaimsFile, recordClaim,
  renderReproduceMarkdown, seriesFrom, setDisplaySink, showFigure, shownFigure, showTable, subplots, tableHtml, tableText,
  verdictFrom, verdictFromChecks, gatedVerdict, denseGate, lowerBeyondNoise, seOfDifference, displayBundle, byBudget, clearNotebookContext, ClaimsFile, reproduceCommand,
} from 'prune-at-init';
import { listNotebooks, parseArgs, runReproduce, ReproduceResult, selectNotebooks } from '../scripts/reproduce';

// the repository root, whether this file runs from test/ (tsx) or build/test/ (compiled)
const ROOT = (() => { let d = __dirname; while (!fs.existsSync(path.join(d, 'lib', 'package.json'))) d = path.dirname(d); return d; })();
const FIXTURES = path.join(ROOT, 'test', 'fixtures', 'notebooks');

/** A temp dir inside the repo (build/ is ignored): notebooks must resolve node_modules/prune-at-init from it. */
function repoTmp(prefix: string): string {
  const base = path.join(ROOT, 'build', 'test-tmp');
  fs.mkdirSync(base, { recursive: true });
  return fs.mkdtempSync(path.join(base, prefix));
}

/**
 * Notebook kernels import the built package (node_modules/prune-at-init -> lib/dist), so build it
 * first. `tsc -p` emits even when an unrelated file has type errors.
 */
function buildLib(): void {
  const tsc = spawnSync(process.execPath, [path.join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', path.join(ROOT, 'lib')], { encoding: 'utf8' });
  assert.ok(fs.existsSync(path.join(ROOT, 'lib', 'dist', 'notebook', 'index.js')), `lib build failed:\n${tsc.stdout}${tsc.stderr}`);
}

function capture(): { msgs: DisplayMessage[]; restore: () => void } {
  const msgs: DisplayMessage[] = [];
  const prev = setDisplaySink((m) => msgs.push(m));
  return { msgs, restore: () => setDisplaySink(prev) };
}

function pngSize(png: Buffer): { width: number; height: number } {
  assert.equal(png.subarray(0, 8).toString('hex'), '89504e470d0a1a0a', 'PNG signature');
  assert.equal(png.subarray(12, 16).toString('latin1'), 'IHDR');
  return { width: png.readUInt32BE(16), height: png.readUInt32BE(20) };
}

type Output = { output_type: string; name?: string; text?: string | string[]; data?: Record<string, string | string[]>; metadata?: Record<string, unknown> };
type Notebook = { cells: { cell_type: string; source: string | string[]; outputs?: Output[] }[] };
const joined = (v: string | string[] | undefined) => (Array.isArray(v) ? v.join('') : v ?? '');

describe('notebook helpers', () => {
  afterEach(() => clearNotebookContext());

  it('parses budgets and seeds, with errors naming the value and the fix', () => {
    assert.equal(parseBudget(' Smoke '), 'smoke');
    assert.throws(() => parseBudget('fast', 'PRUNE_AT_INIT_BUDGET'), /PRUNE_AT_INIT_BUDGET="fast" is not a budget: use one of smoke, quick, standard, paper/);
    assert.deepEqual(parseSeeds('0,1,2'), [0, 1, 2]);
    assert.deepEqual(parseSeeds('0-2, 7'), [0, 1, 2, 7]);
    assert.throws(() => parseSeeds('1,x'), /'x' is not an integer/);
    assert.throws(() => parseSeeds('1,1'), /seed 1 is repeated/);
    assert.throws(() => parseSeeds(''), /empty/);
    assert.throws(() => parseSeeds('3-1'), /backwards/);
    // negative seeds are meaningful (issue 14 defect 8): the RNG hashes the seed as text
    assert.deepEqual(parseSeeds('-1'), [-1]);
    assert.deepEqual(parseSeeds('-3--1, 4'), [-3, -2, -1, 4]);
    assert.deepEqual(parseSeeds([0, -1]), [0, -1]);
    assert.throws(() => parseSeeds([0, 1.5]), /1.5 is not an integer/);
    assert.equal(byBudget('standard', { smoke: 1, quick: 2, standard: 4, paper: 3 }), 4);
  });

  it('notebookParams rejects unknown or mistyped parameters, naming the path and the accepted keys (issue 14 defect 2)', () => {
    const quiet = { display: false };
    assert.throws(() => notebookParams({ notebook: '01-x', seed: [1] } as never, {}, quiet),
      /notebookParams: unknown key 'seed'; accepted keys: notebook, budget, seeds, outDir \(got/);
    assert.throws(() => notebookParams({ notebook: '01-x', seeds: { quik: [1] } } as never, {}, quiet),
      /notebookParams\.seeds: unknown key 'quik'; accepted keys: smoke, quick, standard, paper/);
    assert.throws(() => notebookParams({ notebook: '01-x', seeds: { quick: [0.5] } } as never, {}, quiet),
      /notebookParams\.seeds\.quick\[0\]: .*expected int.* \(got 0\.5\)/);
  });

  it('notebookParams: environment over notebook defaults over built-in defaults', () => {
    const quiet = { display: false };
    let p = notebookParams({ notebook: '01-x' }, {}, quiet);
    assert.equal(p.budget, 'quick');
    assert.deepEqual(p.seeds, [0, 1]);
    assert.equal(p.outDir, path.join(ROOT, 'out'));
    p = notebookParams({ notebook: '01-x', budget: 'smoke', seeds: { smoke: [5] }, outDir: '/tmp/a' }, {}, quiet);
    assert.deepEqual([p.budget, p.seeds, p.outDir], ['smoke', [5], '/tmp/a']);
    p = notebookParams({ notebook: '01-x', budget: 'smoke', seeds: { smoke: [5] } },
      { PRUNE_AT_INIT_BUDGET: 'paper', PRUNE_AT_INIT_SEEDS: '3,4', PRUNE_AT_INIT_OUT: '/tmp/b' }, quiet);
    assert.deepEqual([p.budget, p.seeds, p.outDir], ['paper', [3, 4], '/tmp/b']);
    assert.throws(() => notebookParams({ notebook: '01-x' }, { PRUNE_AT_INIT_SEEDS: 'a' }, quiet), /PRUNE_AT_INIT_SEEDS="a"/);
    assert.throws(() => notebookParams({ notebook: '01-x' }, { PRUNE_AT_INIT_NOTEBOOK: '02-y' }, quiet), /match the file name 02-y.ipynb/);
    assert.throws(() => notebookParams({ notebook: 'bad name' }, {}, quiet), /notebook must be a name/);
    assert.equal(reproduceCommand({ notebook: '03-reduced', budget: 'quick', seeds: [0, 1] }), 'npm run reproduce -- --only 03 --budget quick --seeds 0,1');
  });

  it('sends one display message with every MIME type through tslab\'s writer when in a kernel', () => {
    // Stand-in for the kernel's tslab/dist/jupyter.js, found the way the library finds the real one.
    const key = path.join(os.tmpdir(), 'fake', 'node_modules', 'tslab', 'dist', 'jupyter.js');
    const calls: { content: { data: Record<string, string>; metadata: unknown; transient: unknown }; update: boolean }[] = [];
    const fake = { exports: { lastWriteDisplayData: (content: never, update: boolean) => calls.push({ content, update }) } };
    (require.cache as Record<string, unknown>)[key] = fake;
    try {
      displayBundle({ data: { 'text/html': '<b>x</b>', 'image/png': 'AAAA', 'text/plain': 'x' }, metadata: { 'image/png': { width: 3 } } });
      displayBundle({ data: { 'text/plain': 'y' }, displayId: 'd1', update: true });
    } finally {
      delete (require.cache as Record<string, unknown>)[key];
    }
    assert.equal(calls.length, 2);
    assert.deepEqual(calls[0].content, { data: { 'text/html': '<b>x</b>', 'image/png': 'AAAA', 'text/plain': 'x' }, metadata: { 'image/png': { width: 3 } }, transient: {} });
    assert.equal(calls[0].update, false);
    assert.deepEqual(calls[1].content.transient, { display_id: 'd1' });
    assert.equal(calls[1].update, true);
    assert.throws(() => displayBundle({ data: {} }), /MIME bundle is empty/);
  });

  it('meanSd / formatting agree with hand computation', () => {
    const m = meanSd([1, 2, 3, 4]);
    assert.equal(m.mean, 2.5);
    assert.ok(Math.abs(m.sd - Math.sqrt(5 / 3)) < 1e-15);
    assert.ok(Number.isNaN(meanSd([7]).sd));
    assert.equal(formatMeanSd(m, undefined, 2), '2.50 ± 1.29');
    assert.equal(formatMeanSd(meanSd([0.5]), undefined, 3), '0.500 (n=1)');
    assert.equal(formatNumber(3), '3');
    assert.equal(formatNumber(0.123456, 3), '0.123');
    assert.equal(formatNumber(0.00001234, 3), '1.23e-5');
    assert.equal(formatNumber(NaN), 'NaN');
    assert.throws(() => meanSd([]), /non-empty/);
  });

  it('tables: HTML and text from rows and from a danfojs DataFrame, escaped, numbers right-aligned', () => {
    const rows = [{ method: '<snip>', density: 0.1, acc: { mean: 0.91234, sd: 0.01, n: 3 } }, { method: 'random', density: 1, acc: 0.5 }];
    const html = tableHtml(rows, { caption: 'Acc', digits: 2 });
    assert.match(html, /^<table class="pai-table"><caption>Acc<\/caption>/);
    assert.ok(html.includes('&lt;snip&gt;') && !html.includes('<snip>'));
    assert.ok(html.includes('<td style="text-align:right">0.91 ± 0.01</td>'));
    assert.equal((html.match(/<tr>/g) ?? []).length, 3);
    const text = tableText(rows, { digits: 2 });
    assert.deepEqual(text.split('\n'), [
      'method  density          acc',
      '------  -------  -----------',
      '<snip>     0.10  0.91 ± 0.01',
      'random        1         0.50',
    ]);
    const dfd = require('danfojs-node');
    const df = new dfd.DataFrame([{ a: 1, b: 'x' }, { a: 2.5, b: 'y' }]);
    assert.equal(tableText(df, { digits: 1 }), '  a  b\n---  -\n  1  x\n2.5  y');
    const { msgs, restore } = capture();
    try { showTable(df, { caption: 'df' }); } finally { restore(); }
    assert.equal(msgs.length, 1);
    assert.deepEqual(Object.keys(msgs[0].data).sort(), ['text/html', 'text/plain']);
    assert.throws(() => tableHtml(rows, { columns: ['nope'] }), /column 'nope' is not in the data/);
  });

  it('seriesFrom aggregates seeds to mean ± sd (checked against direct computation)', () => {
    const rows: { method: string; d: number; seed: number; acc: number }[] = [];
    for (const method of ['a', 'b']) for (const d of [0.5, 0.1]) for (const seed of [0, 1, 2]) rows.push({ method, d, seed, acc: (method === 'a' ? 1 : 2) * d + seed / 10 });
    const s = seriesFrom(rows, { x: 'd', y: 'acc', group: 'method', error: 'sd' });
    assert.deepEqual(s.map((x) => x.name), ['a', 'b']);
    assert.deepEqual(s[0].x, [0.1, 0.5]);
    // acc = k*d + {0, .1, .2}: mean k*d + 0.1, sd 0.1
    s.forEach((ser, i) => ser.x.forEach((d, j) => {
      assert.ok(Math.abs(ser.y[j] - ((i + 1) * (d as number) + 0.1)) < 1e-12);
      assert.ok(Math.abs(ser.error![j] - 0.1) < 1e-12);
    }));
    const sem = seriesFrom(rows, { x: 'd', y: 'acc', group: 'method', error: 'sem' });
    assert.ok(Math.abs(sem[0].error![0] - 0.1 / Math.sqrt(3)) < 1e-12);
    assert.throws(() => seriesFrom(rows, { x: 'd', y: 'acc', group: 'method' }), /two rows for method = a, d = 0.5; aggregate replicates/);
    assert.throws(() => seriesFrom(rows, { x: 'd', y: 'accuracy' }), /column 'accuracy' is not in the table/);
  });

  it('figure builders produce Plotly specs and reject malformed data', () => {
    const f = lineFigure([{ name: 'a', x: [1, 2], y: [0.5, NaN], error: [0.1, 0.2] }], { title: 'T', x: { title: 'x', log: true, range: [1, 100] } });
    assert.equal(f.data[0].type, 'scatter');
    assert.deepEqual(f.data[0].y, [0.5, null]);
    assert.deepEqual((f.layout.xaxis as { range: number[] }).range, [0, 2]);
    assert.equal((f.layout.xaxis as { type: string }).type, 'log');
    assert.throws(() => lineFigure([{ name: 'a', x: [1, 2], y: [1] }]), /x has 2 points but y has 1/);
    assert.throws(() => lineFigure([{ name: 'a', x: [1], y: [1], error: [-1] }]), /error\[0\] = -1 must be a number >= 0/);
    const h = heatmapFigure({ z: [[1, 2], [3, 4]], x: ['0.1', '1'], y: ['a', 'b'] });
    assert.equal((h.layout.xaxis as { type: string }).type, 'category');
    assert.throws(() => heatmapFigure({ z: [[1, 2], [3]] }), /z\[1\] has 1 values, row 0 has 2/);
    const g = subplots([f, barFigure([{ name: 'a', x: ['p', 'q'], y: [1, 2] }])], { columns: 2 });
    assert.deepEqual(g.data.map((t) => [t.xaxis, t.yaxis, t.showlegend]), [['x', 'y', true], ['x2', 'y2', false]]);
    assert.equal((g.layout.xaxis2 as { anchor: string }).anchor, 'y2');
  });

  it('progress updates one display in place with done/total and a linear ETA', () => {
    let t = 0;
    const { msgs, restore } = capture();
    try {
      const step = progress(4, 'runs', { now: () => t, notebook: true, minIntervalMs: 1000 });
      t = 5000; step();
      t = 5500; step(); // throttled: within 1 s of the last draw
      t = 10000; step(1, 'seed 2');
      assert.equal(step.state().etaMs, (10000 / 3) * 1);
      t = 12000; step();
      step.finish();
      assert.throws(() => step(), /5 runs done exceeds the total of 4/);
    } finally { restore(); }
    assert.equal(msgs.length, 5); // initial, t=5s, t=10s, completion, finish
    const ids = new Set(msgs.map((m) => m.displayId));
    assert.equal(ids.size, 1);
    assert.deepEqual(msgs.map((m) => !!m.update), [false, true, true, true, true]);
    assert.equal(msgs[1].data['text/plain'], 'runs: 1/4 (25%), elapsed 5s, ETA 15s');
    assert.equal(msgs[2].data['text/plain'], 'runs: 3/4 (75%), elapsed 10s, ETA 3s — seed 2');
    assert.match(msgs[4].data['text/html'], /<progress value="4" max="4"/);
    // Terminal: a bar on a TTY stream, nothing on a non-TTY one.
    const tty: string[] = [];
    const p = progress(2, 'x', { notebook: false, now: () => 0, stream: { isTTY: true, write: (s: string) => tty.push(s) } });
    p(2); p.finish();
    assert.match(tty[tty.length - 1], /^\r\[#{30}\] x: 2\/2 \(100%\)/);
    const none: string[] = [];
    progress(1, 'y', { notebook: false, stream: { isTTY: false, write: (s: string) => none.push(s) } })(1);
    assert.equal(none.length, 0);
  });

  it('lowerBeyondNoise: the gap must exceed z standard errors of the difference of the means (closed form)', () => {
    // SE = sqrt(0.01²/4 + 0.02²/4) = sqrt(0.000125) = 0.0111803
    const a = { mean: 0.20, sd: 0.01, n: 4 };
    assert.ok(Math.abs(seOfDifference(a, { mean: 0, sd: 0.02, n: 4 }) - Math.sqrt(0.000125)) < 1e-15);
    const far = lowerBeyondNoise(a, { mean: 0.23, sd: 0.02, n: 4 });
    assert.ok(far.passed && Math.abs(far.diff - 0.03) < 1e-12 && Math.abs(far.margin - 2 * Math.sqrt(0.000125)) < 1e-15);
    assert.equal(lowerBeyondNoise(a, { mean: 0.22, sd: 0.02, n: 4 }).passed, false); // 2 pp < 2.24 pp
    assert.equal(lowerBeyondNoise(a, { mean: 0.22, sd: 0.02, n: 4 }, 1).passed, true); // 2 pp > 1.12 pp
    // one seed each (sd NaN): no noise estimate, plain comparison
    assert.equal(lowerBeyondNoise({ mean: 0.2, sd: NaN, n: 1 }, { mean: 0.2001, sd: NaN, n: 1 }).passed, true);
    assert.equal(lowerBeyondNoise({ mean: 0.2, sd: NaN, n: 1 }, { mean: 0.2, sd: NaN, n: 1 }).passed, false);
    assert.throws(() => lowerBeyondNoise(a, a, -1), /z must be >= 0/);
  });

  it('verdicts are computed from checks', () => {
    assert.equal(verdictFrom(3, 3), 'reproduced');
    assert.equal(verdictFrom(1, 3), 'partly');
    assert.equal(verdictFrom(0, 2), 'not reproduced');
    assert.throws(() => verdictFrom(4, 3), /passedChecks must be an integer in 0..3/);
    const v = verdictFromChecks([{ label: 'a', passed: true }, { label: 'b', passed: false }]);
    assert.deepEqual([v.verdict, v.summary], ['partly', '1/2 checks passed: ✓ a; ✗ b']);
  });

  it('showFigure exports PNG/SVG through Chromium, writes files, and recordClaim stores the claim atomically', async function () {
    this.timeout(120000);
    const out = fs.mkdtempSync(path.join(os.tmpdir(), 'pai-nb-'));
    const { msgs, restore } = capture();
    try {
      notebookParams({ notebook: 'unit' }, { PRUNE_AT_INIT_OUT: out, PRUNE_AT_INIT_SEEDS: '0,1' });
      const fig = lineFigure([{ name: 'a', x: [1, 2, 3], y: [1, 4, 9] }], { title: 'Unit figure', width: 400, height: 300 });
      await showFigure(fig, { name: 'sq', scale: 1 });
      await showFigure(fig, { name: 'sq2', scale: 1 });
      await closeFigureExporter();
      assert.equal(exporterRunning(), false);
      const files = shownFigure('unit', 'sq')!;
      assert.deepEqual(pngSize(fs.readFileSync(files.png!)), { width: 400, height: 300 });
      const svg = fs.readFileSync(files.svg!, 'utf8');
      assert.ok(svg.startsWith('<svg') && svg.includes('Unit figure'));
      assert.deepEqual(JSON.parse(fs.readFileSync(files.json, 'utf8')), JSON.parse(JSON.stringify(fig)));
      const figMsgs = msgs.filter((m) => m.data['text/html']?.includes('class="pai-figure"'));
      assert.equal(figMsgs.length, 2);
      for (const m of figMsgs) {
        // One message, several MIME types; the PNG is also the <img> fallback inside the HTML.
        assert.deepEqual(Object.keys(m.data).sort(), ['image/png', 'text/html', 'text/plain']);
        assert.equal(m.data['image/png'], fs.readFileSync(m === figMsgs[0] ? files.png! : shownFigure('unit', 'sq2')!.png!).toString('base64'));
        assert.ok(m.data['text/html'].includes(`<img class="pai-static" src="data:image/png;base64,${m.data['image/png']}"`));
        assert.deepEqual(m.metadata, { 'image/png': { width: 400, height: 300 } });
      }
      // The Plotly bundle is inlined once, with the first figure.
      assert.ok(figMsgs[0].data['text/html'].length > 1e6 && figMsgs[0].data['text/html'].includes('plotly.js'));
      assert.ok(figMsgs[1].data['text/html'].length < 1e6);

      const claim = {
        id: 'c1', paperStatement: 'S', source: 'Paper, Tab. 1', setting: 'tiny', numbers: { acc: 0.91234, runs: 3 },
        verdict: verdictFrom(2, 2), gates: 'no training' as const, rationale: 'both checks', figure: 'sq',
      };
      recordClaim(claim);
      recordClaim({ ...claim, id: 'c2', figure: undefined });
      recordClaim({ ...claim, rationale: 're-recorded' });
      const file = path.join(out, 'claims', 'unit.json');
      let cf = readClaimsFile(file);
      assert.deepEqual(cf.claims.map((c) => [c.id, c.rationale]), [['c2', 'both checks'], ['c1', 're-recorded']]);
      assert.deepEqual([cf.budget, cf.seeds], ['quick', [0, 1]]);
      assert.deepEqual(cf.claims[1].figure, { name: 'sq', json: 'figures/unit/sq.json', png: 'figures/unit/sq.png', svg: 'figures/unit/sq.svg' });
      assert.equal(cf.claims[1].command, 'npm run reproduce -- --only unit --budget quick --seeds 0,1');
      assert.deepEqual(fs.readdirSync(path.dirname(file)), ['unit.json']); // no temp files left
      // A new run of the notebook starts a fresh claims file.
      notebookParams({ notebook: 'unit' }, { PRUNE_AT_INIT_OUT: out });
      recordClaim({ ...claim, id: 'c3', figure: undefined });
      cf = readClaimsFile(file);
      assert.deepEqual(cf.claims.map((c) => c.id), ['c3']);
      assert.throws(() => recordClaim({ ...claim, figure: 'never-shown' }), /figure 'never-shown' was not shown/);
      assert.throws(() => recordClaim({ ...claim, verdict: 'yes' as never }), /verdict "yes" is not one of/);
      assert.throws(() => recordClaim({ ...claim, numbers: {} }), /numbers must be a non-empty object/);
      assert.throws(() => recordClaim({ ...claim, numbers: { x: NaN } }), /numbers\['x'\] = NaN must be a number/);
      // Gates: required; a failed gate forces 'inconclusive', and only a failed gate allows it.
      const low = denseGate('dense LeNet', [0.70, 0.72], [0.88]);
      const ok = denseGate('dense LeNet', [0.87, 0.875], [0.88]);
      assert.throws(() => recordClaim({ ...claim, figure: undefined, gates: undefined as never }), /gates must be a non-empty array of gates .* or 'no training'/);
      assert.throws(() => recordClaim({ ...claim, figure: undefined, gates: [] }), /gates must be a non-empty array/);
      assert.throws(() => recordClaim({ ...claim, figure: undefined, gates: [low] }), /gate failed \(dense LeNet: dense reference 71.00 % .*\) but verdict is 'reproduced'/);
      assert.throws(() => recordClaim({ ...claim, figure: undefined, verdict: 'inconclusive', gates: [ok] }), /verdict 'inconclusive' needs a failed gate \(gates: passed\)/);
      recordClaim({ ...claim, id: 'c4', figure: undefined, verdict: gatedVerdict([{ label: 'x', passed: true }], [low, ok]).verdict, gates: [low, ok] });
      const c4 = readClaimsFile(file).claims.find((c) => c.id === 'c4')!;
      assert.deepEqual([c4.verdict, c4.gateStatus, c4.gates.length], ['inconclusive', 'failed', 2]);
    } finally {
      restore();
      await closeFigureExporter();
      fs.rmSync(out, { recursive: true, force: true });
    }
  });

  it('without Chromium, figures keep the HTML (no static image) and a note is printed once', async () => {
    const out = fs.mkdtempSync(path.join(os.tmpdir(), 'pai-nochrome-'));
    const prevEnv = process.env.PRUNE_AT_INIT_CHROMIUM;
    const writes: string[] = [];
    const origWrite = process.stderr.write.bind(process.stderr);
    const { msgs, restore } = capture();
    await closeFigureExporter();
    process.env.PRUNE_AT_INIT_CHROMIUM = path.join(out, 'no-such-chromium');
    (process.stderr as { write: unknown }).write = (s: string) => { writes.push(String(s)); return true; };
    try {
      notebookParams({ notebook: 'nochrome', outDir: out }, {}, { display: false });
      const fig = barFigure([{ name: 'a', x: ['p', 'q'], y: [1, 2] }]);
      await showFigure(fig, { name: 'b1' });
      await showFigure(fig, { name: 'b2' });
    } finally {
      (process.stderr as { write: unknown }).write = origWrite;
      if (prevEnv === undefined) delete process.env.PRUNE_AT_INIT_CHROMIUM; else process.env.PRUNE_AT_INIT_CHROMIUM = prevEnv;
      restore();
    }
    try {
      assert.equal(writes.filter((w) => w.includes('static figure images are omitted')).length, 1);
      assert.ok(writes[0].includes('no-such-chromium'));
      for (const m of msgs) {
        assert.deepEqual(Object.keys(m.data).sort(), ['text/html', 'text/plain']);
        assert.ok(m.data['text/html'].includes('static image unavailable'));
      }
      assert.deepEqual(fs.readdirSync(path.join(out, 'figures', 'nochrome')).sort(), ['b1.json', 'b2.json']);
      assert.equal(shownFigure('nochrome', 'b1')!.png, undefined);
    } finally {
      fs.rmSync(out, { recursive: true, force: true });
    }
  });

  it('REPRODUCE.md renders each claim from the claims files', () => {
    const cf: ClaimsFile = {
      schemaVersion: 2, notebook: '02-eoc', runId: 'r', budget: 'standard', seeds: [0, 1, 2], backend: 'wasm (tfjs 4.22.0)', date: '2026-01-01T00:00:00.000Z',
      claims: [{
        id: 'rescaling-helps', paperStatement: 'Rescaling | restores trainability.', source: 'Hayou et al. 2021, Tab. 2', setting: 'MLP 20x300',
        numbers: { 'acc (pruned)': 0.123456, 'acc | rescaled': '0.85 ± 0.01' }, verdict: 'partly', rationale: '1/2 checks',
        gates: [denseGate('dense 20x300', [0.87], [0.88])], gateStatus: 'passed',
        figure: { name: 'acc', json: 'figures/02-eoc/acc.json', png: 'figures/02-eoc/acc.png' }, command: 'npm run reproduce -- --only 02', recordedAt: 'x',
      }],
    };
    const quick: ClaimsFile = { ...cf, budget: 'quick', claims: [{ ...cf.claims[0], verdict: 'inconclusive', gates: [denseGate('dense 20x300', [0.74], [0.80])], gateStatus: 'failed' }] };
    const md = renderReproduceMarkdown([cf], { figureLink: (p) => `notebooks/${p}`, failures: [{ notebook: '03-x', codeCell: 4, error: 'Error: boom\nstack' }], generatedAt: 'NOW', compare: [quick] });
    for (const s of ['Generated NOW', '1 claim from 1 notebook: 0 reproduced, 1 partly, 0 not reproduced, 0 inconclusive', '**03-x** (code cell 4): Error: boom',
      '| 02-eoc | [rescaling-helps](#02-eoc-rescaling-helps) | 🟡 partly | standard | passed | ⚪ inconclusive (quick) ⚠ differs | 0, 1, 2 |',
      '**Gates: passed.**', '- ✓ dense 20x300: dense reference 87.00 % (1 seed) vs converged 88.00 % (1 seed): gap 1.00 points, allowed 2.00',
      'Budget **standard**, seeds 0, 1, 2, backend wasm (tfjs 4.22.0)', '### 02-eoc rescaling-helps', '🟡 partly', '> Rescaling | restores trainability.',
      '> — Hayou et al. 2021, Tab. 2', '**Our setting.** MLP 20x300', '| acc (pruned) | 0.1235 |', '| acc \\| rescaled | 0.85 ± 0.01 |',
      '**Why this verdict.** 1/2 checks', '![acc](notebooks/figures/02-eoc/acc.png)', 'npm run reproduce -- --only 02']) {
      assert.ok(md.includes(s), `missing ${JSON.stringify(s)} in\n${md}`);
    }
  });

  it('reproduce arguments and notebook selection', () => {
    const lib = { parseBudget, parseSeeds };
    assert.deepEqual(parseArgs(['--budget', 'smoke', '--seeds=0,1', '--only', '01,03', '--write-back'], lib),
      { budget: 'smoke', seeds: [0, 1], only: ['01', '03'], writeBack: true });
    assert.throws(() => parseArgs(['--budget'], lib), /--budget needs a value/);
    assert.throws(() => parseArgs(['--frobnicate'], lib), /unknown argument "--frobnicate"/);
    assert.throws(() => parseArgs(['--budget', 'huge'], lib), /--budget="huge" is not a budget/);
    const all = ['/n/01-a.ipynb', '/n/02-b.ipynb', '/n/03-c.ipynb'];
    assert.deepEqual(selectNotebooks(all, ['03', '01']), ['/n/01-a.ipynb', '/n/03-c.ipynb']);
    assert.throws(() => selectNotebooks(all, ['05']), /--only 05 matches no notebook \(have: 01-a, 02-b, 03-c\)/);
  });
});

describe('tslab kernel registration', function () {
  this.timeout(120000);
  it('registers the kernel for the user when missing or broken, and leaves a working one alone', () => {
    // A throwaway HOME, so the real ~/.local/share/jupyter is untouched.
    const home = fs.mkdtempSync(path.join(os.tmpdir(), 'pai-home-'));
    try {
      const script = `const j = require(${JSON.stringify(path.join(__dirname, '..', 'scripts', 'jupyter'))});
        const py = j.findJupyterPython(); if (!py) throw new Error('no python with nbclient');
        const out = [j.ensureKernel(${JSON.stringify(ROOT)}, py).action, j.ensureKernel(${JSON.stringify(ROOT)}, py).action];
        require('fs').writeFileSync(process.env.HOME + '/.local/share/jupyter/kernels/tslab/kernel.json', JSON.stringify({ argv: ['/nonexistent/tslab', 'kernel'], display_name: 'TypeScript', language: 'typescript' }));
        out.push(j.ensureKernel(${JSON.stringify(ROOT)}, py).action);
        console.log(JSON.stringify(out));`;
      const r = spawnSync(process.execPath, [...(__filename.endsWith('.ts') ? ['--require', 'tsx/cjs'] : []), '-e', script], { cwd: ROOT, env: { ...process.env, HOME: home }, encoding: 'utf8' });
      assert.equal(r.status, 0, r.stderr);
      assert.deepEqual(JSON.parse(r.stdout.trim().split('\n').pop()!), ['registered', 'present', 'registered']);
      const spec = JSON.parse(fs.readFileSync(path.join(home, '.local', 'share', 'jupyter', 'kernels', 'tslab', 'kernel.json'), 'utf8'));
      assert.deepEqual(spec.argv, [path.join(ROOT, 'node_modules', '.bin', 'tslab'), 'kernel', '--config-path', '{connection_file}']);
    } finally {
      fs.rmSync(home, { recursive: true, force: true });
    }
  });
});

describe('notebook pipeline through the real tslab kernel', function () {
  this.timeout(600000);
  let tmp: string;
  let nbDir: string;
  let outDir: string;
  let result: ReproduceResult;
  const log: string[] = [];

  before(async () => {
    buildLib();
    tmp = repoTmp('pipeline-');
    nbDir = path.join(tmp, 'notebooks');
    outDir = path.join(tmp, 'out');
    fs.mkdirSync(nbDir);
    for (const f of ['fixture.ipynb', 'failing.ipynb']) fs.copyFileSync(path.join(FIXTURES, f), path.join(nbDir, f));
    // a claims file left in out/ by an earlier run of another notebook at another budget
    fs.mkdirSync(path.join(outDir, 'claims'), { recursive: true });
    fs.writeFileSync(path.join(outDir, 'claims', 'stale.json'), JSON.stringify({ schemaVersion: 2, notebook: 'stale', runId: 'r', budget: 'standard', seeds: [0], backend: null, date: '2026-01-01T00:00:00.000Z', claims: [] }));
    result = await runReproduce({
      notebooksDir: nbDir, outDir, budget: 'smoke', seeds: [0, 1], writeBack: true, reportFile: path.join(tmp, 'REPRODUCE.md'),
      requireDatasets: false, cellTimeoutSec: 300, say: (s) => log.push(s),
    });
  });

  after(() => {
    if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
  });

  it('runs every notebook, reports the failing one with its cell and error, and fails overall', () => {
    assert.deepEqual(result.problems.filter((p) => p.fatal), [], log.join('\n'));
    assert.deepEqual(result.runs.map((r) => [r.notebook, r.ok]), [['failing', false], ['fixture', true]], log.join('\n'));
    assert.equal(result.ok, false);
    const bad = result.runs[0];
    assert.equal(bad.failure!.codeCell, 2);
    assert.match(bad.failure!.error, /deliberate failure for the pipeline test/);
    assert.ok(log.some((l) => l.startsWith('FAILED failing: code cell 2 (console.log(\'about to fail\');)') && l.includes('deliberate failure')), log.join('\n'));
    // The partial notebook is kept, and the cell after the failure never ran.
    const nb = JSON.parse(fs.readFileSync(bad.executed, 'utf8')) as Notebook;
    const code = nb.cells.filter((c) => c.cell_type === 'code');
    assert.match(joined(code[1].outputs!.find((o) => o.name === 'stdout')?.text), /about to fail/);
    assert.deepEqual(code[2].outputs, []);
  });

  it('the executed notebook holds figures (HTML + static PNG in one output), a table, and the progress display', () => {
    const nb = JSON.parse(fs.readFileSync(path.join(outDir, 'notebooks', 'fixture.ipynb'), 'utf8')) as Notebook;
    const outs = nb.cells.flatMap((c) => c.outputs ?? []);
    const figs = outs.filter((o) => joined(o.data?.['text/html']).includes('class="pai-figure"'));
    assert.equal(figs.length, 2);
    for (const f of figs) {
      assert.equal(f.output_type, 'display_data');
      assert.deepEqual(Object.keys(f.data!).sort(), ['image/png', 'text/html', 'text/plain']);
      const png = Buffer.from(joined(f.data!['image/png']), 'base64');
      assert.deepEqual(pngSize(png), { width: 720 * 2, height: 440 * 2 });
      assert.ok(joined(f.data!['text/html']).includes('Plotly.newPlot'));
    }
    const tables = outs.filter((o) => joined(o.data?.['text/html']).includes('<table class="pai-table">'));
    assert.equal(tables.length, 1);
    assert.match(joined(tables[0].data!['text/html']), /<caption>Accuracy by method and density<\/caption>/);
    assert.match(joined(tables[0].data!['text/plain']), /magnitude\s+0\.100\s+0\.\d{3} ± 0\.\d{3}/);
    // progress: updated in place, so one output showing the final state (2 methods x 3 densities x 2 seeds)
    const prog = outs.filter((o) => joined(o.data?.['text/plain']).startsWith('fake runs:'));
    assert.equal(prog.length, 1);
    assert.match(joined(prog[0].data!['text/plain']), /^fake runs: 12\/12 \(100%\)/);
    assert.equal(result.runs[1].figures, 2);
    assert.equal(result.runs[1].staticImages, 2);
    assert.equal(result.runs[1].tables, 1);
    for (const name of ['accuracy', 'heatmap']) for (const ext of ['png', 'svg', 'json']) {
      assert.ok(fs.existsSync(path.join(outDir, 'figures', 'fixture', `${name}.${ext}`)), `${name}.${ext}`);
    }
  });

  it('writes the claim JSON with the verdict computed in the notebook, and REPRODUCE.md renders it', () => {
    const cf = readClaimsFile(path.join(outDir, 'claims', 'fixture.json'));
    assert.deepEqual([cf.notebook, cf.budget, cf.seeds], ['fixture', 'smoke', [0, 1]]);
    assert.equal(cf.claims.length, 1);
    const c = cf.claims[0];
    assert.equal(c.id, 'magnitude-beats-random');
    assert.equal(c.verdict, 'reproduced'); // magnitude > random by construction at every density
    assert.equal(c.numbers['checks passed'], '3/3');
    assert.equal(c.figure!.png, 'figures/fixture/accuracy.png');
    assert.ok(!fs.existsSync(path.join(outDir, 'claims', 'failing.json')));
    for (const file of [result.report!, result.publishedReport!]) {
      const md = fs.readFileSync(file, 'utf8');
      assert.ok(md.includes('### fixture magnitude-beats-random'));
      assert.ok(md.includes('> Magnitude pruning beats random pruning at every density.'));
      assert.ok(md.includes('**failing** (code cell 2): Error: deliberate failure') || md.includes('**failing** (code cell 2):'), md);
      assert.ok(md.includes('npm run reproduce -- --only fixture --budget smoke --seeds 0,1'));
      // The figure link resolves to the image next to the report.
      const link = /!\[accuracy\]\(([^)]+)\)/.exec(md)![1];
      assert.ok(fs.existsSync(path.join(path.dirname(file), link)), `${file}: ${link}`);
    }
  });

  it('--write-back copies only successful executed notebooks and their figures into the notebooks folder', () => {
    const back = JSON.parse(fs.readFileSync(path.join(nbDir, 'fixture.ipynb'), 'utf8')) as Notebook;
    assert.ok(back.cells.some((c) => (c.outputs ?? []).length > 0));
    assert.equal(fs.readFileSync(path.join(nbDir, 'failing.ipynb'), 'utf8'), fs.readFileSync(path.join(FIXTURES, 'failing.ipynb'), 'utf8'));
    assert.deepEqual(fs.readdirSync(path.join(nbDir, 'figures', 'fixture')).sort(), ['accuracy.png', 'accuracy.svg', 'heatmap.png', 'heatmap.svg']);
    // The claims are committed per budget; REPRODUCE.md is rendered from them.
    assert.deepEqual(readClaimsFile(path.join(nbDir, 'runs', 'smoke', 'claims', 'fixture.json')).claims.map((c) => c.id), ['magnitude-beats-random']);
    assert.ok(!fs.existsSync(path.join(nbDir, 'runs', 'smoke', 'claims', 'failing.json')));
    // only this run's claims are written back: not a stale file of another notebook and budget left in out/
    assert.deepEqual(fs.readdirSync(path.join(nbDir, 'runs')), ['smoke']);
    assert.deepEqual(fs.readdirSync(path.join(nbDir, 'runs', 'smoke', 'claims')), ['fixture.json']);
  });

  it('the HTML export renders every figure offline (all non-file requests blocked)', async () => {
    const html = result.runs[1].html!;
    assert.ok(html && fs.existsSync(html));
    const { chromium } = require('playwright-core');
    const browser = await chromium.launch({ executablePath: chromiumPath(), headless: true, args: CHROMIUM_ARGS });
    try {
      const page = await browser.newPage();
      const blocked: string[] = [];
      await page.route('**/*', (route: { request(): { url(): string }; continue(): Promise<void>; abort(): Promise<void> }) => {
        const url = route.request().url();
        if (url.startsWith('file:')) return route.continue();
        blocked.push(url);
        return route.abort();
      });
      await page.goto('file://' + html, { waitUntil: 'load', timeout: 120000 });
      await page.waitForFunction(() => {
        const d = (globalThis as unknown as { document: { querySelectorAll(s: string): ArrayLike<{ querySelector(s: string): unknown }> } }).document;
        const figs = Array.from(d.querySelectorAll('.pai-figure'));
        return figs.length > 0 && figs.every((f) => f.querySelector('svg.main-svg') !== null);
      }, null, { timeout: 60000 });
      const perFigure: number[] = await page.evaluate(() => {
        const d = (globalThis as unknown as { document: { querySelectorAll(s: string): ArrayLike<{ querySelectorAll(s: string): ArrayLike<unknown> }> } }).document;
        return Array.from(d.querySelectorAll('.pai-figure')).map((f) => f.querySelectorAll('svg.main-svg').length);
      });
      assert.equal(perFigure.length, 2);
      assert.ok(perFigure.every((n) => n > 0), JSON.stringify(perFigure));
      // Where scripts do not run (untrusted notebook, sanitising viewers) the static PNG inside
      // each figure's HTML is what shows: it must decode to the figure's size.
      const noJs = await browser.newContext({ javaScriptEnabled: false });
      try {
        const p2 = await noJs.newPage();
        await p2.route('**/*', (route: { request(): { url(): string }; continue(): Promise<void>; abort(): Promise<void> }) =>
          (route.request().url().startsWith('file:') ? route.continue() : route.abort()));
        await p2.goto('file://' + html, { waitUntil: 'load', timeout: 120000 });
        const sizes: { w: number; svg: number }[] = await p2.evaluate(() => {
          const d = (globalThis as unknown as { document: { querySelectorAll(s: string): ArrayLike<{ querySelector(s: string): { naturalWidth: number } | null; querySelectorAll(s: string): ArrayLike<unknown> }> } }).document;
          return Array.from(d.querySelectorAll('.pai-figure')).map((f) => ({ w: f.querySelector('img.pai-static')?.naturalWidth ?? 0, svg: f.querySelectorAll('svg.main-svg').length }));
        });
        assert.deepEqual(sizes, [{ w: 1440, svg: 0 }, { w: 1440, svg: 0 }]);
      } finally {
        await noJs.close();
      }
    } finally {
      await browser.close();
    }
  });
});

describe('the project notebooks at the smoke budget', function () {
  // Each notebook is run through the same pipeline as `npm run reproduce -- --budget smoke`.
  this.timeout(4 * 3600 * 1000);
  const notebooks = listNotebooks(path.join(ROOT, 'notebooks'));

  it(`finds the notebooks in notebooks/ (${notebooks.length} now)`, () => {
    assert.ok(Array.isArray(notebooks));
    for (const f of notebooks) assert.match(path.basename(f), /^\d{2}-[a-z0-9-]+\.ipynb$/, 'notebooks are named NN-topic.ipynb');
  });

  if (notebooks.length === 0) return;
  let tmp: string;
  let result: ReproduceResult;
  before(async () => {
    buildLib();
    tmp = repoTmp('smoke-');
    result = await runReproduce({ outDir: path.join(tmp, 'out'), budget: 'smoke', say: () => undefined });
  });
  after(() => {
    if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
  });
  for (const f of notebooks) {
    const name = path.basename(f, '.ipynb');
    it(`${name} runs and produces at least one claim, one figure and one table`, () => {
      const r = result.runs.find((x) => x.notebook === name);
      assert.ok(r, `${name} was not run`);
      assert.ok(r.ok, `${name} failed at code cell ${r.failure?.codeCell}: ${r.failure?.error}`);
      assert.ok(r.claims >= 1, `${name}: no claim recorded`);
      assert.ok(r.figures >= 1, `${name}: no figure`);
      assert.ok(r.staticImages >= 1, `${name}: no static figure image`);
      assert.ok(r.tables >= 1, `${name}: no table`);
    });
  }
});
