export * from './ip.ts';
