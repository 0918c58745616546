export * from './runtime.ts';
export * from './state.ts';
export * from './watch.ts';
