/**
 * Independent float64 reference for FFNN losses, written from the maths and not from the library:
 * forward pass y^l = phi(y^{l-1}) W^l + b^l (no activation on the input and on the logits), mean
 * cross-entropy of logits / T, the analytic gradient with respect to the kernels by backpropagation,
 * and Hessian-vector products / full Hessians by central differences of that analytic gradient with a
 * float64 step of 1e-9 relative. For ReLU nets the activation pattern is recorded at θ and at θ ± h so
 * callers can check that no kink lies in the difference interval (where it does not, the gradient is
 * smooth in between and the difference is exact up to O(h²) and float64 rounding).
 */
export type Act64 = 'tanh' | 'relu' | 'linear';
export interface Ffnn64 { dims: number[]; act: Act64; kernels: Float64Array[]; biases: Float64Array[] }

const phi = (a: Act64, v: number) => (a === 'tanh' ? Math.tanh(v) : a === 'relu' ? (v > 0 ? v : 0) : v);
const dphi = (a: Act64, v: number) => (a === 'tanh' ? 1 - Math.tanh(v) ** 2 : a === 'relu' ? (v > 0 ? 1 : 0) : 1);

export interface LossGrad64 { loss: number; grad: Float64Array[]; pattern: Uint8Array }

/** Mean CE of logits / T at the given kernels, its gradient w.r.t. the kernels, and the sign pattern of hidden pre-activations. */
export function lossGrad64(net: Ffnn64, kernels: Float64Array[], X: ArrayLike<number>, y: ArrayLike<number>, T = 1): LossGrad64 {
  const { dims, act } = net;
  const n = y.length, L = kernels.length;
  // z[l]: pre-activations of layer l (l = 0 is the input itself), [n, dims[l]]
  const z: Float64Array[] = [Float64Array.from(X)];
  for (let l = 0; l < L; l++) {
    const din = dims[l], dout = dims[l + 1], W = kernels[l], b = net.biases[l], prev = z[l];
    const out = new Float64Array(n * dout);
    const inp = new Float64Array(din);
    for (let e = 0; e < n; e++) {
      for (let i = 0; i < din; i++) inp[i] = l === 0 ? prev[e * din + i] : phi(act, prev[e * din + i]);
      const o = e * dout;
      for (let j = 0; j < dout; j++) out[o + j] = b[j];
      for (let i = 0; i < din; i++) {
        const a = inp[i];
        if (a === 0) continue;
        const row = i * dout;
        for (let j = 0; j < dout; j++) out[o + j] += a * W[row + j];
      }
    }
    z.push(out);
  }
  const C = dims[L];
  let loss = 0;
  // delta = dLoss/dz[L]
  let delta = new Float64Array(n * C);
  for (let e = 0; e < n; e++) {
    let m = -Infinity;
    for (let c = 0; c < C; c++) m = Math.max(m, z[L][e * C + c] / T);
    let s = 0;
    for (let c = 0; c < C; c++) s += Math.exp(z[L][e * C + c] / T - m);
    loss += m + Math.log(s) - z[L][e * C + y[e]] / T;
    for (let c = 0; c < C; c++) delta[e * C + c] = (Math.exp(z[L][e * C + c] / T - m) / s - (c === y[e] ? 1 : 0)) / (n * T);
  }
  const grad: Float64Array[] = new Array(L);
  for (let l = L - 1; l >= 0; l--) {
    const din = dims[l], dout = dims[l + 1], W = kernels[l], prev = z[l];
    const g = new Float64Array(din * dout);
    const back = new Float64Array(n * din);
    for (let e = 0; e < n; e++) for (let i = 0; i < din; i++) {
      const pre = prev[e * din + i];
      const a = l === 0 ? pre : phi(act, pre);
      let s = 0;
      for (let j = 0; j < dout; j++) {
        const d = delta[e * dout + j];
        g[i * dout + j] += a * d;
        s += W[i * dout + j] * d;
      }
      back[e * din + i] = l === 0 ? 0 : s * dphi(act, pre);
    }
    grad[l] = g;
    delta = back;
  }
  const hiddenSizes = dims.slice(1, L).reduce((a, d) => a + d, 0) * n;
  const pattern = new Uint8Array(hiddenSizes);
  let k = 0;
  for (let l = 1; l < L; l++) for (let i = 0; i < z[l].length; i++) pattern[k++] = z[l][i] > 0 ? 1 : 0;
  return { loss: loss / n, grad, pattern };
}

function norm(a: Float64Array[]): number { let s = 0; for (const t of a) for (let i = 0; i < t.length; i++) s += t[i] * t[i]; return Math.sqrt(s); }
const samePattern = (a: Uint8Array, b: Uint8Array) => a.every((v, i) => v === b[i]);

export interface Hvp64 { hv: Float64Array[]; /** no activation sign changes between θ − hv and θ + hv */ patternStable: boolean }

/** H v by central differences of the analytic float64 gradient, h = relStep·‖θ‖/‖v‖. */
export function hvp64(net: Ffnn64, X: ArrayLike<number>, y: ArrayLike<number>, v: Float64Array[], T = 1, relStep = 1e-9): Hvp64 {
  const h = relStep * norm(net.kernels) / norm(v);
  const at = (s: number) => lossGrad64(net, net.kernels.map((k, l) => k.map((w, i) => w + s * h * v[l][i])), X, y, T);
  const p = at(1), m = at(-1), c = at(0);
  return {
    hv: p.grad.map((g, l) => g.map((gi, i) => (gi - m.grad[l][i]) / (2 * h))),
    patternStable: samePattern(p.pattern, c.pattern) && samePattern(m.pattern, c.pattern),
  };
}

/** The full Hessian of the loss w.r.t. all kernel entries (flattened in layer order), column by column. */
export function hessian64(net: Ffnn64, X: ArrayLike<number>, y: ArrayLike<number>, T = 1): { H: number[][]; patternStable: boolean } {
  const sizes = net.kernels.map((k) => k.length);
  const n = sizes.reduce((a, b) => a + b, 0);
  const H: number[][] = [];
  let stable = true;
  for (let c = 0; c < n; c++) {
    let off = c;
    const e = sizes.map((s) => new Float64Array(s));
    for (let l = 0; l < sizes.length; l++) { if (off < sizes[l]) { e[l][off] = 1; break; } off -= sizes[l]; }
    const r = hvp64(net, X, y, e, T);
    stable &&= r.patternStable;
    H.push(r.hv.flatMap((t) => Array.from(t)));
  }
  return { H, patternStable: stable };
}

/** Flatten a list of arrays in order. */
export function flat64(ts: ArrayLike<number>[]): number[] { return ts.flatMap((t) => Array.from(t)); }
