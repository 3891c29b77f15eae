/** Notebook studies: each module holds one notebook's experiment logic (plan, tasks, tables, verdicts). */
export * as reducedVsPruned from './reduced-vs-pruned';
export * as reducedVsPrunedDenseNet from './reduced-vs-pruned-densenet';
export * from './timing';
export * as eocRescaling from './eoc-rescaling';
export * as kstartsDissipating from './kstarts-dissipating';
export * as layerCollapse from './layer-collapse';
export * as sanityChecks from './sanity-checks';
export * as ffnnRecipe from './ffnn-recipe';
export * as overfitting from './overfitting';
