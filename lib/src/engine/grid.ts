/** Grid expansion: the cartesian product of option values, times seeds, as a flat list of configs. */
import { isPlainObject, PlainObject } from './canonical';

/** Set `value` at dotted `path` in `obj`, creating plain objects on the way. */
export function setPath(obj: PlainObject, dotted: string, value: unknown): void {
  const parts = dotted.split('.');
  if (parts.some((p) => p === '')) throw new Error(`Grid path '${dotted}' is invalid: use dot-separated option names like 'model.width'.`);
  let o = obj;
  for (const p of parts.slice(0, -1)) {
    if (o[p] === undefined) o[p] = {};
    if (!isPlainObject(o[p])) throw new Error(`Grid path '${dotted}': '${p}' holds ${JSON.stringify(o[p])}, not an object of options.`);
    o = o[p] as PlainObject;
  }
  o[parts[parts.length - 1]] = structuredClone(value);
}

/**
 * All configs `base` ⊕ one value per grid path ⊕ one seed. Order: grid paths in the object's key
 * order, the first varying slowest, seeds innermost. The seed is written at `seedPath` ('seed').
 */
export function expandGrid<C extends PlainObject = PlainObject>(
  base: PlainObject, grid: Record<string, readonly unknown[]>, seeds: readonly number[], seedPath = 'seed',
): C[] {
  if (!isPlainObject(base)) throw new Error('expandGrid: base must be a plain object of options.');
  if (!Array.isArray(seeds) || seeds.length === 0 || !seeds.every((s) => Number.isInteger(s))) {
    throw new Error(`expandGrid: seeds must be a non-empty array of integers, got ${JSON.stringify(seeds)}.`);
  }
  if (new Set(seeds).size !== seeds.length) throw new Error(`expandGrid: seeds ${JSON.stringify(seeds)} contain duplicates.`);
  const paths = Object.keys(grid);
  for (const p of paths) {
    if (!Array.isArray(grid[p]) || grid[p].length === 0) throw new Error(`expandGrid: grid['${p}'] must be a non-empty array of values.`);
  }
  const out: C[] = [];
  const idx = paths.map(() => 0);
  for (;;) {
    for (const seed of seeds) {
      const c = structuredClone(base);
      paths.forEach((p, i) => setPath(c, p, grid[p][idx[i]]));
      setPath(c, seedPath, seed);
      out.push(c as C);
    }
    let d = paths.length - 1;
    while (d >= 0 && ++idx[d] === grid[paths[d]].length) idx[d--] = 0;
    if (d < 0) break;
  }
  return out;
}
