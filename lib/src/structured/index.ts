/** Structured (channel) pruning of WRN and DenseNet-BC interiors: Crowley et al., reduced vs pruned networks. */
export * from './families';
export * from './densenet';
export * from './arch';
export * from './compress';
export * from './fisher';
export * from './l1';
export * from './prune-and-tune';
