import { strict as assert } from 'assert';
import { eocRescaling as E, gatedVerdict } from 'prune-at-init';

// Differential test: the claim parts built by eoc-rescaling-claims.ts against the expressions notebook 02
// used inline before they moved to the library (copied below as the old path, plus the checks the verdict
// was formed from, which the parts carry as a ClaimVerdict and recordClaim does not store), on synthetic runs of
// every job of the smoke plan. Accuracies come from a small deterministic function of the tag, so
// cells differ, some sit at chance and one run diverged.
describe('study 02 claims: the parts each recordClaim gets, old inline path vs the library', () => {
  const seeds = [0, 1];
  const plan = E.plan('smoke', seeds, { workers: 1 });
  const parts = E.sweepParts(plan);
  const accOf = (tag: Record<string, unknown>): number => {
    const s = JSON.stringify(tag);
    let h = 7;
    for (let i = 0; i < s.length; i++) h = (h * 31 + s.charCodeAt(i)) % 1000;
    return h % 3 === 0 ? 0.1 : 0.1 + h / 1250;
  };
  const row = <T extends object>(tag: T, i: number): E.RunRow<T> => {
    const acc = accOf(tag as Record<string, unknown>);
    const layers = [{ name: 'stem/conv/kernel', size: 100, kept: i % 4 }, { name: 's3b1/conv1/kernel', size: 200, kept: (i * 7) % 5 }, { name: 'fc/kernel', size: 50, kept: 3 }];
    return { ...tag, acc, history: [acc - 0.01, acc], outcome: i === 3 ? 'diverged' : 'ok', emptyLayers: [], perLayer: layers as never, density: 0.01, seconds: 1, cached: true } as E.RunRow<T>;
  };
  const rows = <T extends object>(jobs: ReadonlyArray<{ tag: T }>) => jobs.map((j, i) => row(j.tag, i));
  const runs: E.StudyRuns = {
    fig2: rows(parts.fig2), extreme: rows(parts.extreme), resnetInit: rows(parts.resnetInit), resnetTrained: rows(parts.resnetTrained),
    perLayer: rows(parts.perLayer), gates: rows(parts.gates), wallSeconds: 1,
  };
  const { pct, ds, tr, safe } = E.text;

  it('the synthetic runs cover every part the claims read', () => {
    for (const k of ['fig2', 'extreme', 'resnetTrained', 'perLayer', 'gates'] as const) assert.ok(runs[k].length > 0, k);
  });

  it('§2 signal: setting, numbers, verdict and rationale as the notebook built them', () => {
    const phases = E.phasePoints(plan.sigmaB);
    const r = (variant: string, sparsity: number, layer: number, q: number, emptyUnits: number) =>
      ({ phase: 'eoc', variant, sparsity, layer, q, c: 0.5, qPred: q, cPred: 0.5, qStar: 0.5, sigmaW2: 1.7, emptyUnits, n: 2, qSd: 0.1 }) as never;
    const sigRows: ReturnType<typeof E.signalSummary> = [r('dense', 0, 1, 0.5, 0), r('dense', 0, 2, 0.45, 0),
      ...plan.signal.sparsities.flatMap((s, k) => [r('pruned', s, 2, 0.2 / (k + 1), 3 * k), r('pruned', s, 1, 0.4, k), r('rescaled', s, 2, 0.2 + 0.1 * k, 2 * k), r('rescaled', s, 1, 0.5, k)])];
    const sigRatios = E.signalRatios(sigRows);
    const v = E.signalVerdict(sigRatios);
    const vv = gatedVerdict(v.checks, 'no training');
    const old = {
      setting: `tanh FFNN depth ${plan.signal.depth}, width ${plan.width}, EOC σ_w = ${phases[1].sigmaW.toFixed(4)}, σ_b = ${plan.sigmaB}; SNIP (10/class) at ${plan.signal.sparsities.map(pct).join(', ')}; ${plan.signal.batch} Fashion-MNIST test images; seeds ${seeds.join(', ')}; at init`,
      numbers: safe({ ...v.numbers, 'q*': sigRows[0].qStar, 'mean empty units per layer after pruning (of 100)': E.emptyUnitsText(sigRows, plan.signal.sparsities, sigRatios[0].layer) }),
      checks: v.checks,
      verdict: vv.verdict,
      gates: 'no training',
      rationale: `${vv.summary}. Rule: near = q^L/q* in [1/1.5, 1.5], decayed = below 1/1.5, deepest hidden layer, seed means. Units left without inputs cannot be rescaled and pull q^l down at high sparsity.`,
    };
    assert.deepEqual(E.signalClaim(plan, seeds, sigRows, phases), old);
    // the rows reach both outcomes of the band check, so the rationale is not a constant
    assert.match(old.rationale, /✓/); assert.match(old.rationale, /✗/);
  });

  it('§3 Fig. 2 ordering: gates of the first grid, the second grid\'s means for information', () => {
    const fig2Cells = E.armCells(runs.fig2, plan.fig2.grids[0].data.name);
    const v = E.orderingVerdict(fig2Cells);
    const gates = E.fig2Gates(plan, runs);
    const vv = gatedVerdict(v.checks, gates);
    const numbers: Record<string, string | number> = { ...v.numbers, ...E.secondaryGridNumbers(plan, runs) };
    const g = plan.fig2.grids[0];
    const old = {
      setting: `tanh FFNN width ${plan.width}, depths ${g.depths.join('/')}, sparsities ${g.sparsities.map(pct).join('/')}; ${ds(g.data)}; ${tr(plan.fig2.train)}; seeds ${seeds.join(', ')}; final-epoch accuracy`,
      numbers: safe(numbers),
      checks: v.checks,
      verdict: vv.verdict,
      gates,
      rationale: `${vv.summary}. Gaps compared between the deepest and shallowest depth (averaged over sparsities) and the highest and lowest sparsity (averaged over depths).`,
    };
    assert.deepEqual(E.orderingClaim(plan, seeds, runs), old);
  });

  it('§4 extreme sparsity, FFNN and ResNet, with and without long runs', () => {
    const paths = E.FFNN_METHODS.map((method, k) => ({ method, sparsity: pct(Math.max(...plan.extreme.sparsities)), 'effective sparsity': 0.999 + k / 10000 }));
    const longFfnn = runs.extreme.filter((r) => r.method === 'snip').map((r) => ({ ...r, acc: 0.6 }));
    for (const longRuns of [E.NO_LONG_RUNS, { ffnn: longFfnn, resnet: [] }]) {
      const { chance, dense } = E.extremeCells(runs);
      const f = E.extremeVerdict(E.summarize(E.extremeRead(plan, 'ffnn', runs, longRuns), ['method', 'sparsity']), { chance: chance, family: 'FFNN' });
      const fg = E.extremeFfnnGates(plan, runs, longRuns);
      const fv = gatedVerdict(f.checks, fg);
      assert.deepEqual(E.extremeFfnnClaim(plan, seeds, runs, longRuns, paths), {
        setting: `FFNN: tanh depth ${plan.extreme.depth} width ${plan.extreme.width}, EOC init, ${plan.extreme.methods.join('/')} at ${plan.extreme.sparsities.map(pct).join('/')}, ${ds(plan.extreme.data)}, ${tr(plan.extreme.train)}, seeds ${seeds.join(', ')}`,
        numbers: safe({ ...f.numbers, 'FFNN dense reference acc': dense ? dense.mean : 'n/a', ...E.effectiveSparsityNumbers(plan, paths) }),
        checks: f.checks,
        verdict: fv.verdict,
        gates: fg,
        rationale: `${fv.summary}. Collapse = mean final accuracy ≤ chance + 0.05; trainable = ≥ chance + 0.10 (chance 0.10).`,
      });
      const resCells = E.summarize(runs.resnetTrained, ['method', 'sparsity']);
      const r = E.extremeVerdict(E.summarize(E.extremeRead(plan, 'resnet', runs, longRuns), ['method', 'sparsity']), { chance: chance, family: 'ResNet' });
      const rg = E.resnetGates(plan, runs, longRuns);
      const rv = gatedVerdict(r.checks, rg);
      const resDense = resCells.find((c) => c.method === 'none');
      assert.deepEqual(E.extremeResnetClaim(plan, runs, longRuns), {
        setting: `ResNet${plan.resnet.depth} (16/32/64) vs Stable: ${plan.resnet.trained.methods.filter((m) => m !== 'none').join('/')} at ${plan.resnet.trained.sparsities.map(pct).join('/')}, ${ds(plan.resnet.trained.data)}, ${tr(plan.resnet.trained.train)}, seed(s) ${plan.resnet.trained.seeds.join(', ')}`,
        numbers: safe({ ...r.numbers, 'ResNet dense reference acc': resDense ? resDense.mean : 'n/a' }),
        checks: r.checks,
        verdict: rv.verdict,
        gates: rg,
        rationale: `${rv.summary}. Collapse = mean final accuracy ≤ chance + 0.05; trainable = ≥ chance + 0.10 (chance 0.10).`,
      });
    }
    const note = E.longRunNote(plan, { ffnn: longFfnn, resnet: [] });
    assert.ok(note.startsWith(`**Methods at chance at the highest sparsity: slow or untrainable?** ${longFfnn.length} long run(s) (FFNN ${plan.gate.convergedEpochs} epochs, ResNet ${plan.resnet.trained.convergedEpochs})`));
    assert.match(note, /\(mean ≤ chance \+ 0\.05\)/);
  });

  it('§4b per layer: the plan\'s BN mode in the verdict, the other modes as sensitivity numbers', () => {
    const main = E.stableResnetVerdict(E.perLayerRuns(runs.perLayer, plan.resnet.bnMode));
    const vv = gatedVerdict(main.checks, 'no training');
    assert.deepEqual(E.stableResnetClaim(plan, seeds, runs), {
      setting: `ResNet${plan.resnet.perLayer.depths.join('/ResNet')} (16/32/64, BN) vs Stable ResNet, SNIP (10/class, BN ${plan.resnet.bnMode} mode) at ${pct(plan.resnet.perLayer.sparsity)}, Fashion-MNIST, seeds ${seeds.join(', ')}, at init`,
      numbers: safe({ ...main.numbers, ...E.bnSensitivityNumbers(plan, runs.perLayer) }),
      checks: main.checks,
      verdict: vv.verdict,
      gates: 'no training',
      rationale: `${vv.summary}. Deep blocks = last stage (s3*). Standard and Stable nets share initial weights and scoring batch per seed.`,
    });
  });
});
