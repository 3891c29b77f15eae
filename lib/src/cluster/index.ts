/** Scaling sweeps out: manifests of the configs notebooks need, Slurm job arrays, results bundles. */
export * from './notebooks';
export * from './cost';
export * from './manifest';
export * from './run';
export * from './slurm';
export * from './bundle';
