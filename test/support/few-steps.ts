import { Dataset, gather, Net, Trainer } from 'prune-at-init';

/** Train `net` for `steps` SGD steps of 32 training examples in order (enough to move BN running statistics). */
export function trainFewSteps(net: Net, d: Dataset, steps: number): void {
  const trainer = new Trainer(net, { epochs: 1, batchSize: 32, lr: 0.05, momentum: 0.9 });
  for (let t = 0; t < steps; t++) {
    const b = gather(d, d.train, Int32Array.from({ length: 32 }, (_, i) => t * 32 + i));
    trainer.step(b.x, b.y, 0.05);
    b.x.dispose(); b.y.dispose();
  }
  trainer.dispose();
}
