/**
 * Batch augmentation against brute force: every augmented image must be one of the (2·pad+1)² × 2
 * crops/flips of an explicitly padded copy of its source (built here with its own index rules), every
 * such crop must occur at about the uniform rate, and training with augmentation stays deterministic.
 */
import { strict as assert } from 'assert';
import { augmentBatch, buildModel, Dataset, initBackend, Rng, train, validateAugment, Augment, Normalization } from 'prune-at-init';
import { quadrants } from './support/quadrants';

const NORM1: Normalization = { mean: [0.25], std: [0.5] };
const NORM2: Normalization = { mean: [0.25, 0.5], std: [0.5, 0.25] };

/** Image n of a batch as [h][w][c] numbers. */
function image(x: Float32Array, n: number, h: number, w: number, c: number): number[][][] {
  return Array.from({ length: h }, (_, i) => Array.from({ length: w }, (_, j) => Array.from({ length: c }, (_, k) => x[((n * h + i) * w + j) * c + k])));
}

/** Explicit padding: reflect = mirror about the edge pixel (numpy 'reflect'), zero = black pixel in normalised units. */
function padded(img: number[][][], pad: number, fill: 'reflect' | 'zero', norm: Normalization): number[][][] {
  const h = img.length, w = img[0].length, c = img[0][0].length;
  const mirror = (i: number, n: number) => { let k = i; while (k < 0 || k >= n) k = k < 0 ? -k : 2 * (n - 1) - k; return k; };
  return Array.from({ length: h + 2 * pad }, (_, i) => Array.from({ length: w + 2 * pad }, (_, j) => {
    const si = i - pad, sj = j - pad;
    if (si >= 0 && si < h && sj >= 0 && sj < w) return img[si][sj];
    if (fill === 'zero') return Array.from({ length: c }, (_, k) => (0 - norm.mean[k]) / norm.std[k]);
    return img[mirror(si, h)][mirror(sj, w)];
  }));
}

/** All crops (oy, ox in 0..2·pad) of the padded image, each unflipped and flipped, keyed by JSON. */
function candidates(img: number[][][], pad: number, fill: 'reflect' | 'zero', norm: Normalization, flip: boolean): Map<string, string> {
  const h = img.length, w = img[0].length, P = padded(img, pad, fill, norm);
  const out = new Map<string, string>();
  for (let oy = 0; oy <= 2 * pad; oy++) for (let ox = 0; ox <= 2 * pad; ox++) {
    const crop = Array.from({ length: h }, (_, i) => Array.from({ length: w }, (_, j) => P[oy + i][ox + j]));
    out.set(JSON.stringify(crop.map((r) => r.map((p) => p.map(Math.fround)))), `${oy},${ox},0`);
    if (flip) out.set(JSON.stringify(crop.map((r) => [...r].reverse().map((p) => p.map(Math.fround)))), `${oy},${ox},1`);
  }
  return out;
}

function batch(k: number, h: number, w: number, c: number, seed: string): Float32Array {
  return new Rng(3, seed).normalArray(k * h * w * c);
}

describe('batch augmentation (random crop + flip)', () => {
  for (const [fill, c, norm] of [['reflect', 1, NORM1], ['zero', 1, NORM1], ['reflect', 2, NORM2], ['zero', 2, NORM2]] as const) {
    it(`every output is one of the ${fill}-padded crops/flips of its own source (${c} channel(s))`, () => {
      const k = 40, h = 5, w = 4, pad = 2;
      const x = batch(k, h, w, c, `crop ${fill} ${c}`);
      const y = augmentBatch(x, k, [h, w, c], { crop: { pad, fill }, flip: true }, norm, new Rng(1, 'aug'));
      for (let n = 0; n < k; n++) {
        const got = JSON.stringify(image(y, n, h, w, c));
        assert.ok(candidates(image(x, n, h, w, c), pad, fill, norm, true).has(got), `image ${n} is not a crop/flip of its source`);
      }
    });
  }

  it('all (2·pad+1)² offsets × 2 flips occur at about the uniform rate, and the same Rng gives the same batch', () => {
    const k = 5000, h = 6, w = 6, pad = 2, combos = 25 * 2;
    // one distinct value per pixel: every crop/flip of this image is distinct
    const one = Float32Array.from({ length: h * w }, (_, i) => i + 1);
    const x = new Float32Array(k * h * w);
    for (let n = 0; n < k; n++) x.set(one, n * h * w);
    const spec: Augment = { crop: { pad, fill: 'zero' }, flip: true };
    const y = augmentBatch(x, k, [h, w, 1], spec, NORM1, new Rng(9, 'aug'));
    const cand = candidates(image(one, 0, h, w, 1), pad, 'zero', NORM1, true);
    assert.equal(cand.size, combos);
    const counts = new Map<string, number>();
    for (let n = 0; n < k; n++) {
      const which = cand.get(JSON.stringify(image(y, n, h, w, 1)));
      assert.ok(which, `image ${n} is not a crop/flip`);
      counts.set(which, (counts.get(which) ?? 0) + 1);
    }
    assert.equal(counts.size, combos);
    // multinomial with p = 1/50: mean 100, sd ≈ 9.9; ±45 is > 4.5 sd
    for (const [which, m] of counts) assert.ok(Math.abs(m - k / combos) < 45, `${which}: ${m} of ${k}`);
    assert.deepEqual(augmentBatch(x, k, [h, w, 1], spec, NORM1, new Rng(9, 'aug')), y);
  });

  it('flip alone mirrors rows or leaves the image, crop alone never mirrors, an empty spec copies', () => {
    const k = 30, h = 3, w = 5, c = 2;
    const x = batch(k, h, w, c, 'flip');
    const f = augmentBatch(x, k, [h, w, c], { flip: true }, NORM2, new Rng(2, 'a'));
    let flipped = 0;
    for (let n = 0; n < k; n++) {
      const src = image(x, n, h, w, c), got = image(f, n, h, w, c);
      const mirrored = JSON.stringify(src.map((r) => [...r].reverse()));
      assert.ok(JSON.stringify(got) === JSON.stringify(src) || JSON.stringify(got) === mirrored);
      if (JSON.stringify(got) === mirrored) flipped++;
    }
    assert.ok(flipped > 5 && flipped < 25, `${flipped} of ${k} flipped`);
    const cr = augmentBatch(x, k, [h, w, c], { crop: { pad: 1, fill: 'reflect' } }, NORM2, new Rng(2, 'a'));
    for (let n = 0; n < k; n++) {
      const noFlip = candidates(image(x, n, h, w, c), 1, 'reflect', NORM2, false);
      assert.ok(noFlip.has(JSON.stringify(image(cr, n, h, w, c))));
    }
    assert.deepEqual(augmentBatch(x, k, [h, w, c], {}, NORM2, new Rng(2, 'a')), x);
  });

  it('rejects bad specs with the value and the fix', () => {
    assert.throws(() => validateAugment({ crop: { pad: -1, fill: 'zero' } }, [8, 8, 1]), /crop.pad must be a non-negative integer, got -1/);
    assert.throws(() => validateAugment({ crop: { pad: 2, fill: 'edge' as never } }, [8, 8, 1]), /crop.fill must be 'reflect' or 'zero', got 'edge'/);
    assert.throws(() => validateAugment({ crop: { pad: 8, fill: 'reflect' } }, [8, 8, 1]), /reflect padding of 8 needs images larger than 8 pixels/);
    assert.throws(() => validateAugment({ rotate: true } as never, [8, 8, 1]), /unknown field 'rotate'/);
    assert.throws(() => augmentBatch(new Float32Array(10), 1, [2, 2, 2], {}, NORM2, new Rng(0, 'a')), /10 floats is not 1 images of \[2,2,2\]/);
  });

  describe('in training', () => {
    before(async () => { await initBackend(); });
    const dataset = () => quadrants(64, NORM1);
    const run = (augment?: Augment) => {
      const net = buildModel({ arch: 'cnn', activation: 'relu', channels: [4, 'M'] }, { seed: 1, inputShape: [6, 6, 1], numClasses: 4 });
      const r = train(net, dataset(), { epochs: 2, batchSize: 16, lr: 0.05, augment }, { seed: 5 });
      const w = [...net.getWeights().values()].map((a) => Array.from(a));
      net.dispose();
      return { r, w };
    };
    it('is deterministic per seed, an empty spec changes nothing (own Rng stream), crop + flip changes the run', () => {
      const plain = run(), noop = run({}), a1 = run({ crop: { pad: 1, fill: 'zero' }, flip: true }), a2 = run({ crop: { pad: 1, fill: 'zero' }, flip: true });
      assert.deepEqual(noop.w, plain.w);
      assert.deepEqual(a1.w, a2.w);
      assert.deepEqual(a1.r.epochs.map((e) => e.trainLoss), a2.r.epochs.map((e) => e.trainLoss));
      assert.notDeepEqual(a1.w, plain.w);
    });
  });
});
