import { strict as assert } from 'assert';
import { eocRescaling as E, initBackend } from 'prune-at-init';
import type { FigureSpec } from 'prune-at-init';

// Hand-built inputs: every expected trace, axis and cell below is worked out from them in this file.
type Trace = Record<string, any>;
const traces = (f: FigureSpec) => f.data as Trace[];
const acc = (mean: number, extra: Partial<E.AccSummary> = {}): E.AccSummary => ({ mean, sd: 0.01, n: 2, emptySeeds: 0, failed: 0, diverged: 0, ...extra });
const run = <T>(tag: T, o: Partial<E.RunRow<{}>> = {}): E.RunRow<T> => ({
  ...tag, acc: 0.5, history: [], outcome: 'ok', emptyLayers: [], perLayer: [], density: 0.1, seconds: 2, cached: false, ...o,
} as E.RunRow<T>);

describe('study 02 report: figures and tables from small hand-built inputs', () => {
  const plan = E.plan('smoke', [0, 1], { workers: 1 });

  it('text helpers: percentages, recipe, data, NaN shown as text', () => {
    assert.deepEqual([E.text.pct(0.995), E.text.pct(0.5), E.text.pct(0.999)], ['99.5%', '50%', '99.9%']);
    assert.deepEqual(E.text.safe({ a: NaN, b: 1, c: 'x' }), { a: 'NaN (no successful run)', b: 1, c: 'x' });
    assert.equal(E.text.ds({ name: 'mnist', trainLimit: 100, testLimit: 50 }), 'mnist 100 train / 50 test (seeded class-stratified subsets)');
    assert.match(E.text.tr({ lr: 0.01, batchSize: 32, epochs: 4 } as never), /^sgd lr 0.01, momentum 0.9, wd 0, batch 32, 4 epoch\(s\)/);
  });

  it('EOC curves: one line per activation with the curve points, one dot per init point; |χ − 1| and the round σ_b rows', () => {
    const curve = [
      { activation: 'tanh', sigmaB: 0, sigmaW: 1, qStar: 0, chi: 1 }, { activation: 'tanh', sigmaB: 0.2, sigmaW: 1.3, qStar: 0.1, chi: 1 + 2e-9 },
      { activation: 'elu', sigmaB: 0.2, sigmaW: 1.2, qStar: 0.3, chi: 1 - 5e-9 }, { activation: 'elu', sigmaB: 0.3, sigmaW: 1.25, qStar: 0.4, chi: 1 },
    ];
    const phases = [
      { arm: 'ordered', sigmaB: 0.2, sigmaW: 1, qStar: 0.05, chi: 0.8, phase: 'ordered' },
      { arm: 'eoc', sigmaB: 0.2, sigmaW: 1.3, qStar: 0.1, chi: 1, phase: 'eoc' },
    ] as E.PhasePoint[];
    const t = traces(E.eocCurveFigure(curve, phases));
    assert.deepEqual(t.map((x) => [x.name, x.mode]), [['EOC, tanh', 'lines+markers'], ['EOC, elu', 'lines+markers'], ['tanh ordered arm (χ = 0.800)', 'markers'], ['tanh eoc arm (χ = 1.000)', 'markers']]);
    assert.deepEqual([t[1].x, t[1].y, t[2].x, t[2].y], [[1.2, 1.25], [0.2, 0.3], [1], [0.2]]);
    assert.ok(Math.abs(E.maxChiError(curve) - 5e-9) < 1e-15);
    assert.deepEqual(E.eocPointRows(curve).map((r) => [r.activation, r['σ_b']]), [['tanh', 0], ['tanh', 0.2], ['elu', 0.2]]);
    assert.deepEqual(E.phasePointRows(phases)[0], { arm: 'ordered', 'σ_b': 0.2, 'σ_w': 1, 'q*': 0.05, 'χ': 0.8, phase: 'ordered' });
  });

  // Summary rows of two phases over three layers, listed out of layer order.
  const row = (phase: string, layer: number, q: number, extra: object = {}) => ({
    phase, variant: 'dense', sparsity: 0, layer, q, c: 0.1 * layer, qPred: q + 1, cPred: 0.1 * layer + 0.01, qStar: 2, sigmaW2: 1, emptyUnits: 0, n: 2, qSd: 0.5, ...extra,
  }) as never;
  const phaseRows = [row('eoc', 3, 30), row('eoc', 1, 10), row('eoc', 2, 20), row('ordered', 2, 2), row('ordered', 1, 1), row('ordered', 3, 3)];
  const phases = [{ arm: 'ordered', chi: 0.8, qStar: 0.5 }, { arm: 'eoc', chi: 1, qStar: 2 }] as E.PhasePoint[];

  it('correlation figure: two panels (c, q), mean-field lines then measured markers per phase, sorted by layer, one colour per phase', () => {
    const f = E.correlationFigure(phaseRows, phases);
    const t = traces(f);
    assert.equal(t.length, 8);
    const first = t.slice(0, 4), second = t.slice(4);
    assert.deepEqual(first.map((x) => [x.name, x.mode, x.xaxis]), [
      ['ordered (mean-field)', 'lines', 'x'], ['eoc (mean-field)', 'lines', 'x'], ['ordered (measured)', 'markers', 'x'], ['eoc (measured)', 'markers', 'x']]);
    assert.deepEqual(second.map((x) => x.xaxis), ['x2', 'x2', 'x2', 'x2']);
    assert.deepEqual([first[1].x, first[1].y, first[3].y], [[1, 2, 3], [0.11, 0.21000000000000002, 0.31000000000000005], [0.1, 0.2, 0.30000000000000004]]);
    assert.deepEqual([second[1].y, second[3].y], [[11, 21, 31], [10, 20, 30]]);
    assert.equal(first[1].line.color, first[3].marker.color);
    assert.notEqual(first[0].line.color, first[1].line.color);
    assert.deepEqual([(f.layout.xaxis as Trace).title.text, (f.layout.yaxis2 as Trace).title.text], ['layer l', 'q^l']);
    const deep = E.deepestLayerRows(phaseRows, phases);
    assert.deepEqual(deep[1], { phase: 'eoc', 'χ': 1, 'c^3 measured': 0.30000000000000004, 'c^3 mean-field': 0.31000000000000004, 'q^3 measured': 30, 'q^3 mean-field': 31, 'q*': 2 });
  });

  // Signal rows: dense (sparsity 0) and pruned / rescaled at 0.5 and 0.9, two layers each.
  const sig = (variant: string, sparsity: number, layer: number, q: number, emptyUnits = 0, qSd = 0.4) =>
    row('eoc', layer, q, { variant, sparsity, emptyUnits, qSd });
  const sigRows = [
    sig('dense', 0, 1, 2), sig('dense', 0, 2, 2.2),
    sig('pruned', 0.5, 2, 1), sig('pruned', 0.5, 1, 1.6), sig('rescaled', 0.5, 1, 2, 1), sig('rescaled', 0.5, 2, 1.8, 3, NaN),
    sig('pruned', 0.9, 1, 0.8), sig('pruned', 0.9, 2, 0.2), sig('rescaled', 0.9, 1, 1.9, 5), sig('rescaled', 0.9, 2, 1.7, 7),
  ];

  it('signal figure: a panel per sparsity with dense, pruned and rescaled (q/q*, log axis), the dense net in each; NaN sd drawn as no error bar', () => {
    const f = E.signalFigure(sigRows, { depth: 3, sparsities: [0.5, 0.9] });
    const t = traces(f);
    assert.equal((f.layout.title as Trace).text, 'q^l / q* through depth, EOC tanh net of depth 3 (q* = 2.0000)');
    assert.equal(t.length, 12);
    const p2 = t.slice(6);
    assert.deepEqual(p2.map((x) => x.name), ['dense (mean-field)', 'SNIP, no rescaling (mean-field)', 'SNIP + rescaling (mean-field)', 'dense (measured)', 'SNIP, no rescaling (measured)', 'SNIP + rescaling (measured)']);
    assert.deepEqual([p2[4].x, p2[4].y, p2[3].y], [[1, 2], [0.4, 0.1], [1, 1.1]]); // q / q* with q* = 2
    assert.deepEqual(t[5].error_y.array, [0.2, 0]); // sd 0.4 / q* = 0.2; NaN → 0
    assert.deepEqual(p2[1].y, [0.9, 0.6]); // (q + 1) / 2
  });

  it('signal table: the deepest layer per variant, sorted by sparsity, with empty units averaged over layers', () => {
    const ratios = E.signalRatios(sigRows);
    const t = E.signalRows(sigRows, ratios);
    assert.deepEqual(t.map((r) => [r.sparsity, r.variant, r['q^2/q*']]), [
      ['dense', 'dense', 1.1], ['50%', 'SNIP, no rescaling', 0.5], ['50%', 'SNIP + rescaling', 0.9], ['90%', 'SNIP, no rescaling', 0.1], ['90%', 'SNIP + rescaling', 0.85]]);
    assert.deepEqual([t[4]['mean empty units per layer'], t[4]['empty units in layer 1'], t[4]['mean-field q/q*']], [6, 5, 1.35]);
    assert.equal(E.emptyUnitsText(sigRows, [0.5, 0.9], 2), '50%: 2.0; 90%: 6.0');
  });

  it('Fig. 2 heatmaps: one per arm, z[depth][sparsity] = the cell mean, one colour bar; the table has a row per (depth, sparsity)', () => {
    const cells = E.ARMS.flatMap((a, k) => [10, 30].flatMap((depth) => [0.5, 0.9].map((sparsity) =>
      ({ arm: a.arm, depth, sparsity, ...acc(0.1 * k + depth / 100 + sparsity / 10, { emptySeeds: depth === 30 ? 1 : 0 }) }))));
    const t = traces(E.fig2Figure(cells.reverse(), 'Fig. 2'));
    assert.deepEqual(t.map((x) => x.type), ['heatmap', 'heatmap', 'heatmap']);
    assert.deepEqual([t[2].x, t[2].y], [['50%', '90%'], ['L=10', 'L=30']]);
    assert.deepEqual(t[2].z, [[0.2 + 0.1 + 0.05, 0.2 + 0.1 + 0.09], [0.2 + 0.3 + 0.05, 0.2 + 0.3 + 0.09]]);
    assert.deepEqual(t.map((x) => x.showscale), [false, false, undefined]);
    const rows = E.fig2Rows(cells);
    assert.deepEqual(rows.map((r) => [r.depth, r.sparsity]), [[10, '50%'], [10, '90%'], [30, '50%'], [30, '90%']]);
    assert.deepEqual([rows[3][E.ARMS[0].label], rows[3]['eoc: empty layer / diverged']], [{ mean: 0.3 + 0.09, sd: 0.01, n: 2 }, '1 / 0']);
  });

  it('extreme sparsity: dashed chance and dense lines, one line per method; the table finds where each method collapses', () => {
    const methods = plan.extreme.methods, sps = plan.extreme.sparsities;
    // 'random' collapses (≤ chance + 0.05) at the top sparsity only, every other method stays at 0.8
    const pruned = methods.flatMap((method) => sps.map((sparsity) => ({ method, sparsity, ...acc(method === 'random' && sparsity === sps[sps.length - 1] ? 0.12 : 0.8, { diverged: method === 'snip' ? 1 : 0 }) })));
    const dense = { method: 'none', sparsity: 0, ...acc(0.9) };
    const t = traces(E.extremeFigure(plan, pruned, dense, 0.1));
    assert.deepEqual(t.map((x) => x.name), ['chance', 'dense (0.900)', ...methods]);
    assert.deepEqual([t[0].mode, t[0].line.dash, t[1].y], ['lines', 'dash', sps.map(() => 0.9)]);
    assert.deepEqual(t[2].y, sps.map((_, i) => (i === sps.length - 1 ? 0.12 : 0.8)));
    assert.equal(traces(E.extremeFigure(plan, pruned, undefined, 0.1)).length, methods.length + 1);
    const rows = E.extremeRows(plan, pruned, 0.1);
    assert.deepEqual(rows.map((r) => r['collapses at']), methods.map((m) => (m === 'random' ? E.text.pct(sps[sps.length - 1]) : 'never')));
    assert.deepEqual(rows.map((r) => r['diverged runs (not in the means)']), methods.map((m) => (m === 'snip' ? sps.length : 0)));
  });

  it('ResNet tables: empty layers and disconnected seeds at init; trained cells with the dense net labelled', () => {
    const [m] = plan.resnet.methods, s = plan.resnet.sparsities[0];
    const layers = (k: number) => [{ name: 'stem/conv/kernel', size: 10, kept: k }, { name: 's1b1/conv1/kernel', size: 10, kept: 3 }, { name: 'fc/kernel', size: 10, kept: 2 }];
    const tag = { family: 'resnet' as const, arch: 'resnet8', depth: 8, method: m, sparsity: s, trained: false };
    const rows = E.resnetInitRows(plan, [
      run({ ...tag, seed: 0 }, { emptyLayers: ['stem/conv/kernel'], perLayer: layers(0) as never }),
      run({ ...tag, seed: 1 }, { perLayer: layers(4) as never }),
      run({ ...tag, seed: 2 }, { outcome: 'error' }),
    ]);
    assert.equal(rows[0][E.text.pct(s)], '0.5 empty, 1/2 disconnected');
    const trained = E.resnetTrainedRows(20, [{ method: 'none', sparsity: 0, ...acc(0.7) }, { method: 'sbp-sr', sparsity: 0.99, ...acc(0.14) }], 0.1);
    assert.deepEqual(trained.map((r) => [r.method, r.net, r.sparsity, r.collapsed]), [['dense', 'resnet20', '0%', ''], ['sbp-sr', 'resnet20_stable', '99%', 'yes']]);
  });

  it('per-layer kept fractions: mean over seeds in %, an empty layer as a gap, a panel per (BN mode, depth) and a row per net', () => {
    const p = { ...plan, resnet: { ...plan.resnet, bnMode: 'train' as const, perLayer: { depths: [8], sparsity: 0.99, bnModes: ['train' as const, 'eval' as const] } } };
    const L = (a: number, b: number, sc: number) => [
      { name: 'stem/conv/kernel', size: 100, kept: a }, { name: 's3b1/conv1/kernel', size: 200, kept: b }, { name: 's3b1/shortcut/kernel', size: 50, kept: sc }];
    const mk = (method: string, seed: number, bnMode: 'train' | 'eval', perLayer: ReturnType<typeof L>) =>
      run({ family: 'resnet' as const, arch: 'resnet8', depth: 8, method, sparsity: 0.99, seed, trained: false, bnMode }, { perLayer: perLayer as never });
    const runs = (['train', 'eval'] as const).flatMap((bn) => [
      mk('snip', 0, bn, L(10, 0, 4)), mk('snip', 1, bn, L(20, 0, 6)), mk('sbp-sr', 0, bn, L(5, 20, 0)), mk('sbp-sr', 1, bn, L(5, 40, 0))]);
    const r = E.perLayerReport(p, runs);
    const t = traces(r.figure);
    assert.deepEqual(t.map((x) => [x.name, x.xaxis]), [['ResNet + SNIP', 'x'], ['Stable ResNet + SNIP (SBP-SR)', 'x'], ['ResNet + SNIP', 'x2'], ['Stable ResNet + SNIP (SBP-SR)', 'x2']]);
    assert.deepEqual(t[0].x, ['stem', 's3b1/conv1', 's3b1/shortcut']);
    const round = (ys: Array<number | null>) => ys.map((y) => (y === null ? null : +y.toFixed(9)));
    assert.deepEqual([round(t[0].y), round(t[1].y)], [[15, null, 10], [5, 15, null]]);
    assert.deepEqual(r.rows.slice(0, 2).map((x) => [x.net, x['last-stage kept fraction'], x['empty layers per seed'], x['shortcut convs kept (mean)']]),
      [['standard', 5 / 250, '1, 1', 5], ['stable', 30 / 250, '1, 1', 0]]);
    // the eval-mode verdict summary is recorded as a sensitivity number, the train mode (the verdict's) is not
    assert.deepEqual(Object.keys(E.bnSensitivityNumbers(p, runs)), ['BN eval mode (sensitivity, not in the verdict)']);
  });

  it('sweep bookkeeping and the numbers claims record beside their checks', () => {
    const fig2 = E.ARMS.flatMap((a, k) => [10, 20].flatMap((depth) => [0.5, 0.9].map((sparsity) =>
      run({ dataset: 'other', arm: a.arm, depth, sparsity, seed: 0 }, { acc: 0.2 + 0.1 * k, cached: k === 0 }))));
    const runs: E.StudyRuns = {
      fig2: [...fig2, run({ dataset: 'mnist', arm: 'eoc', depth: 10, sparsity: 0.5, seed: 0 }, { outcome: 'error', error: 'boom' })],
      extreme: [run({ family: 'ffnn', arch: 'f', depth: 5, method: 'none', sparsity: 0, seed: 0, trained: true }, { acc: 0.9 }),
        run({ family: 'ffnn', arch: 'f', depth: 5, method: 'snip', sparsity: 0.9, seed: 0, trained: true }, { acc: 0.5, outcome: 'diverged' })],
      resnetInit: [], resnetTrained: [], perLayer: [], gates: [], wallSeconds: 7,
    };
    assert.deepEqual(E.sweepRows(runs), [{ runs: 15, cached: 4, failed: 1, diverged: 1, 'sweep wall s': 7, 'sum of run s (this or earlier sweeps)': 30 }]);
    assert.deepEqual(E.failedRunRows(runs).map((r) => r.error), ['boom']);
    const ex = E.extremeCells(runs);
    assert.deepEqual([ex.chance, ex.dense?.mean, ex.pruned.map((c) => [c.method, c.n, c.diverged])], [0.1, 0.9, [['snip', 0, 1]]]);
    // grid means of the second grid: ordered 0.2, EOC 0.3, EOC + rescaling 0.4 (ARMS order), none with one grid
    const two = { ...plan, fig2: { ...plan.fig2, grids: [plan.fig2.grids[0], { ...plan.fig2.grids[0], data: { name: 'other', trainLimit: 1, testLimit: 1 } }] } };
    const g = E.secondaryGridNumbers(two, runs);
    const means = Object.fromEntries(E.ARMS.map((a, k) => [a.arm, +(0.2 + 0.1 * k).toFixed(12)]));
    assert.deepEqual(Object.entries(g).map(([k, v]) => [k, +v.toFixed(12)]), [
      ['other (not in the checks): grid mean acc, EOC+rescaling', means['eoc+rescale']], ['other (not in the checks): grid mean acc, EOC', means.eoc], ['other (not in the checks): grid mean acc, ordered', means.ordered]]);
    assert.deepEqual(E.secondaryGridNumbers({ ...plan, fig2: { ...plan.fig2, grids: [plan.fig2.grids[0]] } }, runs), {});
    const top = E.text.pct(Math.max(...plan.extreme.sparsities));
    assert.deepEqual(E.effectiveSparsityNumbers(plan, [{ method: 'snip', sparsity: top, 'effective sparsity': 0.9995 }, { method: 'snip', sparsity: '1%', 'effective sparsity': 0.2 }]),
      { [`snip effective sparsity @ ${top}`]: 0.9995 });
  });

  it('settings table: a row per part of the notebook, one per Fig. 2 grid', async () => {
    await initBackend();
    const rows = E.settingsRows(plan, [0, 1]);
    assert.equal(rows.filter((r) => r.part.startsWith('§3 Fig. 2')).length, plan.fig2.grids.length);
    assert.ok(rows.find((r) => r.part === '§3 Fig. 2 (' + plan.fig2.grids[0].data.name + ')')!.setting.includes('× 2 seed(s)'));
  });
});
