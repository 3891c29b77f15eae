/**
 * Can a wider FFNN make notebook 02's 99.9 % claim testable? (issue 13, item 4: choose the analogue nets so
 * that extreme sparsity still leaves trainable paths.) For depth 10 and widths 200 (the standard net), 400
 * and 800, the effective sparsity (Vysogorets & Kempe, JMLR 2023) of every method's 99.9 % mask at init,
 * seed 0, on the standard budget's data, through the engine task notebook 02 uses (cached). Init only: no
 * training, no verdict is looked at. SBP-SR keeps SNIP's mask (its rescaling changes values, not which
 * weights are kept), so where SNIP's mask has no input→output path neither arm can train.
 *   npx tsc -b && node build/scripts/extreme-width-paths.js [widths, default 200,400,800] [workers]
 */
import * as pai from 'prune-at-init';

const widths = (process.argv[2] ?? '200,400,800').split(',').map(Number);
const workers = Number(process.argv[3] ?? 2);

async function main(): Promise<void> {
  const E = pai.eocRescaling;
  const p = E.plan('standard', [0], { workers });
  for (const width of widths) {
    // notebook 02's path statistics (extremePathStats) for a plan whose extreme net has this width
    const rows = await E.extremePathStats({ ...p, extreme: { ...p.extreme, width, sparsities: [0.999] } });
    for (const r of rows) {
      console.log(`depth ${p.extreme.depth} width ${width} ${String(r.method).padEnd(9)} effective sparsity ${Number(r['effective sparsity']).toFixed(5)}; ` +
        `units without inputs per layer ${r['without inputs per layer (seed 0)']}; without outputs (all layers) ${r['units without outputs (all layers)']}`);
    }
  }
}

main().then(() => process.exit(0), (e) => { console.error(e); process.exit(1); });
