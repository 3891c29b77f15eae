export * from './scores-to-mask';
export * from './score';
