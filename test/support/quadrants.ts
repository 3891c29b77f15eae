import { Rng } from 'prune-at-init';
import type { Dataset, Normalization } from 'prune-at-init';

/** A tiny synthetic 6x6 image set for training tests: the class is which quadrant is bright (plus noise). */
export function quadrants(nTrain: number, normalization: Normalization): Dataset {
  const r = new Rng(4, 'ds'), row = 36;
  const mk = (m: number) => {
    const x = new Float32Array(m * row), y = new Int32Array(m);
    for (let i = 0; i < m; i++) {
      y[i] = r.int(4);
      for (let p = 0; p < row; p++) {
        const q = (Math.floor(p / 6) < 3 ? 0 : 2) + (p % 6 < 3 ? 0 : 1);
        x[i * row + p] = (q === y[i] ? 1 : 0) + 0.1 * r.normal();
      }
    }
    return { x, y, n: m };
  };
  return { name: 'quadrants', inputShape: [6, 6, 1], numClasses: 4, train: mk(nTrain), test: mk(32), source: 'synthetic', normalization };
}
