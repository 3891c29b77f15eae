/** Notebook support: displays, figures, tables, progress, parameters, claims and the report. */
export * from './display';
export * from './params';
export * from './tables';
export * from './plots';
export * from './plotly-bundle';
export * from './export-image';
export * from './show-figure';
export * from './progress';
export * from './claims';
export * from './gate';
export * from './report';
export * from './kernel-guard';
