import { strict as assert } from 'assert';
import * as tf from '@tensorflow/tfjs';
import { initBackend, buildModel, activeMask, effectiveSparsity, layerReport, Mask, Net, noPathAtLayerLevel, Rng } from 'prune-at-init';

before(async () => { await initBackend(); });

// Truth by explicit path enumeration on a graph written out by hand for each tiny net (independent
// of effective.ts's graph builder): nodes are (group, unit); an edge is a kept weight (kernel, flat
// index) or an identity link (residual addition). Every input→output path is listed; a weight is
// active iff some listed path uses it; a unit has an input (output) iff some listed path from an
// input (to an output) reaches it.

interface Edge { from: string; to: string; w?: [string, number] }

function bruteForce(edges: Edge[], inputs: string[], outputs: Set<string>) {
  // parallel edges (conv taps between the same two channels) share their unit paths: list paths as unit sequences
  const links = new Map<string, Map<string, Edge[]>>();
  for (const e of edges) {
    if (!links.has(e.from)) links.set(e.from, new Map());
    const m = links.get(e.from)!;
    if (!m.has(e.to)) m.set(e.to, []);
    m.get(e.to)!.push(e);
  }
  const active = new Set<string>(), hasInput = new Set<string>(), hasOutput = new Set<string>([...outputs]);
  let paths = 0;
  const walk = (node: string, path: string[]) => {
    hasInput.add(node);
    if (outputs.has(node)) {
      if (++paths > 2e6) throw new Error('too many paths for the brute force');
      path.forEach((u, i) => {
        hasOutput.add(u);
        if (i + 1 < path.length) for (const e of links.get(u)!.get(path[i + 1])!) if (e.w) active.add(`${e.w[0]}#${e.w[1]}`);
      });
    }
    for (const next of links.get(node)?.keys() ?? []) walk(next, [...path, next]);
  };
  for (const i of inputs) walk(i, [i]);
  // units that reach an output without being reached from an input: enumerate paths from every unit
  const reachesOut = (node: string): boolean => outputs.has(node) || [...(links.get(node)?.keys() ?? [])].some(reachesOut);
  for (const n of new Set(edges.flatMap((e) => [e.from, e.to]))) if (reachesOut(n)) hasOutput.add(n);
  return { paths, active, hasInput, hasOutput };
}

function randomMask(net: Net, rng: Rng, density: number): Mask {
  return new Mask(net.prunable.map((p) => [p.name, { shape: p.shape, data: Array.from({ length: p.size }, () => (rng.uniform() < density ? 1 : 0)) }]));
}

/** Edges of a kernel [.., in, out] between unit groups `from` and `to`; row r reads source unit r % fromUnits. */
function kernelEdges(mask: Mask, name: string, from: string, to: string, fromUnits: number): Edge[] {
  const shape = mask.shape(name), cols = shape[shape.length - 1], m = mask.get(name), out: Edge[] = [];
  for (let i = 0; i < m.length; i++) if (m[i]) out.push({ from: `${from}:${Math.floor(i / cols) % fromUnits}`, to: `${to}:${i % cols}`, w: [name, i] });
  return out;
}
const units = (g: string, n: number) => Array.from({ length: n }, (_, u) => `${g}:${u}`);
const ident = (a: string, b: string, n: number): Edge[] => Array.from({ length: n }, (_, u) => ({ from: `${a}:${u}`, to: `${b}:${u}` }));

/** Compare effective.ts with the brute force: the active set, per-layer counts and the cut-off units. */
function compare(net: Net, mask: Mask, edges: Edge[], inputs: string[], outputs: string[], groupOf: Map<string, [string, number]>) {
  const bf = bruteForce(edges, inputs, new Set(outputs));
  const eff = effectiveSparsity(net, mask);
  const am = activeMask(net, mask);
  for (const p of net.prunable) {
    const a = am.get(p.name), m = mask.get(p.name);
    for (let i = 0; i < a.length; i++) assert.equal(a[i], bf.active.has(`${p.name}#${i}`) ? 1 : 0, `${p.name}[${i}] (mask ${m[i]})`);
    const row = eff.layers.find((l) => l.name === p.name)!;
    const [g, n] = groupOf.get(p.name)!;
    assert.equal(row.active, a.reduce((s, v) => s + v, 0));
    assert.equal(row.unitsNoInput, units(g, n).filter((u) => !bf.hasInput.has(u)).length, `${p.name} units with no input`);
    assert.equal(row.unitsNoOutput, units(g, n).filter((u) => !bf.hasOutput.has(u)).length, `${p.name} units with no output`);
  }
  assert.equal(eff.active, bf.active.size);
  assert.equal(eff.kept, mask.kept);
  assert.ok(Math.abs(eff.effectiveSparsity - (1 - bf.active.size / mask.size)) < 1e-12);
  assert.equal(eff.inputsNoOutput, inputs.filter((u) => !bf.hasOutput.has(u)).length);
  return bf;
}

describe('effective sparsity against brute-force path enumeration', () => {
  it('dense chains (FFNN 6-5-4-3), random masks from 10 % to 70 % density', () => {
    const net = buildModel({ arch: 'ffnn', hidden: [5, 4], activation: 'relu', inputShape: [1, 6, 1], numClasses: 3 }, { seed: 1 });
    const rng = new Rng(2);
    let sawInert = 0;
    for (let t = 0; t < 40; t++) {
      const mask = randomMask(net, rng, 0.1 + 0.6 * (t / 40));
      const edges = [
        ...kernelEdges(mask, 'fc1/kernel', 'in', 'h1', 6), ...kernelEdges(mask, 'fc2/kernel', 'h1', 'h2', 5), ...kernelEdges(mask, 'fc3/kernel', 'h2', 'out', 4),
      ];
      const bf = compare(net, mask, edges, units('in', 6), units('out', 3), new Map([['fc1/kernel', ['h1', 5]], ['fc2/kernel', ['h2', 4]], ['fc3/kernel', ['out', 3]]]));
      if (bf.active.size < mask.kept) sawInert++;
    }
    assert.ok(sawInert > 10, `random sparse masks leave inert weights (${sawInert} of 40)`);
    net.dispose();
  });

  it('plain conv chains (conv-pool-conv-flatten-dense): units are channels, the dense rows read channel r % C', () => {
    const net = buildModel({ arch: 'cnn', channels: [3, 'M', 2], activation: 'relu', inputShape: [4, 4, 2], numClasses: 3 }, { seed: 1 });
    const rng = new Rng(3);
    for (let t = 0; t < 30; t++) {
      const mask = randomMask(net, rng, 0.05 + 0.3 * (t / 30));
      const edges = [
        ...kernelEdges(mask, 'conv1/kernel', 'in', 'c1', 2), ...kernelEdges(mask, 'conv2/kernel', 'c1', 'c2', 3), ...kernelEdges(mask, 'fc/kernel', 'c2', 'out', 2),
      ];
      compare(net, mask, edges, units('in', 2), units('out', 3), new Map([['conv1/kernel', ['c1', 3]], ['conv2/kernel', ['c2', 2]], ['fc/kernel', ['out', 3]]]));
    }
    net.dispose();
  });

  it('ResNet (stem, identity and projection shortcuts): a weight counts if it lies on some path through either branch', () => {
    const net = buildModel({ arch: 'resnet', depth: 8, widths: [2, 3, 3], inputShape: [4, 4, 1], numClasses: 2 }, { seed: 1 });
    const rng = new Rng(4);
    // random masks, then one that cuts the first residual branch (s1b1/conv2 empty): only the identity shortcut carries stage 1
    const cutBranch = new Mask(net.prunable.map((p) => [p.name, { shape: p.shape, data: new Array(p.size).fill(p.name === 's1b1/conv2/kernel' ? 0 : 1) }]));
    for (let t = 0; t <= 30; t++) {
      const mask = t < 30 ? randomMask(net, rng, 0.15 + 0.4 * (t / 30)) : cutBranch;
      const edges = [
        ...kernelEdges(mask, 'stem/conv/kernel', 'in', 'stem', 1),
        ...kernelEdges(mask, 's1b1/conv1/kernel', 'stem', 's1c1', 2), ...kernelEdges(mask, 's1b1/conv2/kernel', 's1c1', 's1c2', 2),
        ...ident('s1c2', 's1', 2), ...ident('stem', 's1', 2),
        ...kernelEdges(mask, 's2b1/conv1/kernel', 's1', 's2c1', 2), ...kernelEdges(mask, 's2b1/conv2/kernel', 's2c1', 's2c2', 3),
        ...kernelEdges(mask, 's2b1/shortcut/kernel', 's1', 's2sc', 2), ...ident('s2c2', 's2', 3), ...ident('s2sc', 's2', 3),
        ...kernelEdges(mask, 's3b1/conv1/kernel', 's2', 's3c1', 3), ...kernelEdges(mask, 's3b1/conv2/kernel', 's3c1', 's3c2', 3),
        ...kernelEdges(mask, 's3b1/shortcut/kernel', 's2', 's3sc', 3), ...ident('s3c2', 's3', 3), ...ident('s3sc', 's3', 3),
        ...kernelEdges(mask, 'fc/kernel', 's3', 'out', 3),
      ];
      const groups = new Map<string, [string, number]>([
        ['stem/conv/kernel', ['stem', 2]], ['s1b1/conv1/kernel', ['s1c1', 2]], ['s1b1/conv2/kernel', ['s1c2', 2]],
        ['s2b1/conv1/kernel', ['s2c1', 3]], ['s2b1/conv2/kernel', ['s2c2', 3]], ['s2b1/shortcut/kernel', ['s2sc', 3]],
        ['s3b1/conv1/kernel', ['s3c1', 3]], ['s3b1/conv2/kernel', ['s3c2', 3]], ['s3b1/shortcut/kernel', ['s3sc', 3]], ['fc/kernel', ['out', 2]],
      ]);
      assert.deepEqual([...groups.keys()].sort(), net.prunable.map((p) => p.name).sort(), 'the hand-written graph covers every kernel');
      const bf = compare(net, mask, edges, units('in', 1), units('out', 2), groups);
      if (mask === cutBranch) {
        const eff = effectiveSparsity(net, mask);
        assert.ok(bf.paths > 0);
        eff.layers.forEach((l) => assert.equal(l.active, l.name.startsWith('s1b1/') ? 0 : l.kept, l.name));
      }
    }
    net.dispose();
  });
});

describe('effective sparsity: closed-form cases', () => {
  it('a dense mask is fully active; an emptied layer makes every weight inert; a unit with no inputs cuts its outgoing weights', () => {
    const net = buildModel({ arch: 'ffnn', hidden: [4, 3], activation: 'tanh', inputShape: [1, 5, 1], numClasses: 2 }, { seed: 2 });
    const full = effectiveSparsity(net, Mask.ones(net));
    assert.deepEqual([full.active, full.kept, full.size, full.effectiveSparsity, full.activeFraction, full.inputsNoOutput], [20 + 12 + 6, 38, 38, 0, 1, 0]);
    full.layers.forEach((l) => assert.deepEqual([l.unitsNoInput, l.unitsNoOutput], [0, 0]));
    const m = (fc1: number[], fc2: number[], fc3: number[]) => new Mask([
      ['fc1/kernel', { shape: [5, 4], data: fc1 }], ['fc2/kernel', { shape: [4, 3], data: fc2 }], ['fc3/kernel', { shape: [3, 2], data: fc3 }]]);
    const ones = (n: number) => new Array(n).fill(1);
    const collapsed = effectiveSparsity(net, m(ones(20), new Array(12).fill(0), ones(6)));
    assert.deepEqual([collapsed.active, collapsed.effectiveSparsity], [0, 1]);
    assert.deepEqual(collapsed.layers.map((l) => [l.unitsNoInput, l.unitsNoOutput]), [[0, 4], [3, 0], [2, 0]]);
    assert.equal(collapsed.inputsNoOutput, 5);
    // hidden unit 0 of layer 1 gets no input (column 0 of fc1 empty): its 3 outgoing fc2 weights are inert
    const fc1 = ones(20).map((v, i) => (i % 4 === 0 ? 0 : 1));
    const cut = effectiveSparsity(net, m(fc1, ones(12), ones(6)));
    assert.deepEqual(cut.layers.map((l) => [l.kept, l.active, l.unitsNoInput, l.unitsNoOutput]), [[15, 15, 1, 0], [12, 9, 0, 0], [6, 6, 0, 0]]);
    assert.ok(Math.abs(cut.activeFraction - 30 / 33) < 1e-12);
    net.dispose();
  });

  it('WRN: a block whose interior channels are all masked is inert, its identity shortcut still carries the paths', () => {
    const net = buildModel('wrn10_1', { seed: 0, inputShape: [8, 8, 3] });
    const full = effectiveSparsity(net, Mask.ones(net));
    assert.equal(full.active, full.size);
    net.setUnitMask('s1b1/mid', new Float32Array(16));
    const cut = effectiveSparsity(net, Mask.ones(net));
    for (const l of cut.layers) {
      const inBlock = l.name.startsWith('s1b1/conv');
      assert.equal(l.active, inBlock ? 0 : l.kept, l.name);
      assert.equal(l.unitsNoInput, inBlock ? 16 : 0, l.name);
    }
    net.dispose();
  });

  it('layerReport carries the effective sparsity and leaves its other fields unchanged', () => {
    const net = buildModel({ arch: 'ffnn', hidden: [4, 3], activation: 'tanh', inputShape: [1, 5, 1], numClasses: 2 }, { seed: 2 });
    const mask = randomMask(net, new Rng(9), 0.3);
    const rep = layerReport(net, mask);
    assert.deepEqual(rep.effective, effectiveSparsity(net, mask));
    assert.deepEqual(rep.layers.map((l) => l.kept), mask.perLayer().map((l) => l.kept));
    // the same layers in a Net built without buildModel, so without a build config
    const tagged = buildModel({ arch: 'ffnn', hidden: [4], activation: 'tanh', inputShape: [1, 5, 1], numClasses: 2 }, { seed: 2 });
    const untagged = new Net('untagged', tagged.inputShape, tagged.numClasses, tagged.layers, (x) => x, new Map(tagged.info.map((p) => [p.name, new Float32Array(p.size)])));
    tagged.dispose();
    const r2 = layerReport(untagged, Mask.ones(untagged));
    assert.equal(r2.effective, null);
    assert.match(r2.effectiveNote!, /not computed for nets without a build config/);
    assert.throws(() => effectiveSparsity(untagged, Mask.ones(untagged)), /has no build config/);
    net.dispose(); untagged.dispose();
  });
});

describe('noPathAtLayerLevel: a run\'s per-layer kept counts say when its output cannot depend on its input', () => {
  // Truth: the net itself. With every kernel in `empty` zeroed and every other kernel dense, the
  // logits for two different input batches are equal exactly when no input→output path is left.
  // tanh everywhere, so no dead ReLU makes a connected net constant by accident.
  function constantOutput(net: Net, empty: Set<string>, rng: Rng): boolean {
    const weights = net.getWeights(); // setMask zeroes the pruned weights themselves: restored below
    net.setMask(new Mask(net.prunable.map((p) => [p.name, { shape: p.shape, data: new Array(p.size).fill(empty.has(p.name) ? 0 : 1) }])));
    const [h, w, c] = net.inputShape;
    const x = () => tf.tensor4d(Array.from({ length: 3 * h * w * c }, () => rng.normal()), [3, h, w, c]);
    const d = tf.tidy(() => {
      const a = net.forward(x()), b = net.forward(x());
      return tf.max(tf.abs(tf.sub(a, b))).dataSync()[0];
    });
    net.clearMask();
    net.setWeights(weights);
    assert.ok(d < 1e-6 || d > 1e-3, `an output gap of ${d} is neither constant nor clearly input-dependent`);
    return d < 1e-6;
  }

  function everySubset(net: Net, seed: number): number {
    const names = net.prunable.map((p) => p.name), rng = new Rng(seed);
    let cut = 0;
    for (let bits = 0; bits < 1 << names.length; bits++) {
      const empty = new Set(names.filter((_, i) => bits & (1 << i)));
      const perLayer = net.prunable.map((p) => ({ name: p.name, kept: empty.has(p.name) ? 0 : p.size }));
      const truth = constantOutput(net, empty, rng);
      assert.equal(noPathAtLayerLevel(perLayer), truth, `empty: ${[...empty].join(', ') || 'none'}`);
      if (truth) cut++;
    }
    return cut;
  }

  it('FFNN (a chain): every subset of emptied layers, against the net\'s outputs', () => {
    const net = buildModel({ arch: 'ffnn', hidden: [5, 4, 3], activation: 'tanh', inputShape: [1, 6, 1], numClasses: 3 }, { seed: 3 });
    assert.equal(everySubset(net, 1), 15, 'every non-empty subset of 4 layers cuts a chain');
    net.dispose();
  });

  it('ResNet-8 (identity and projection shortcuts): every subset of emptied kernels, against the net\'s outputs', () => {
    const net = buildModel({ arch: 'resnet', depth: 8, widths: [2, 3, 3], activation: 'tanh', inputShape: [4, 4, 1], numClasses: 2 }, { seed: 5 });
    assert.equal(net.prunable.length, 10);
    const cut = everySubset(net, 2);
    assert.ok(cut > 0 && cut < 1 << 10, `${cut} of 1024 subsets cut`);
    net.dispose();
  });

  it('undefined for layer names it does not know (DenseNet concatenations, unnamed nets)', () => {
    assert.equal(noPathAtLayerLevel([{ name: 'stem/conv/kernel', kept: 3 }, { name: 'd1l1/conv1/kernel', kept: 0 }, { name: 'fc/kernel', kept: 2 }]), undefined);
    assert.equal(noPathAtLayerLevel([]), undefined);
  });
});
