/** Structured (channel) pruning of WRN interiors: Crowley et al., reduced vs pruned networks. */
export * from './families';
export * from './compress';
export * from './fisher';
export * from './l1';
export * from './prune-and-tune';
