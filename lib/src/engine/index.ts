export * from './canonical';
export * from './store';
export * from './task';
export * from './grid';
export * from './progress';
export * from './sweep';
export * from './table';
export * from './tally';
export type { RunJob, WorkerMessage } from './worker';
