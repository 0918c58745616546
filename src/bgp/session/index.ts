// Public surface of the pure BGP session FSM.
export * from './types.ts';
export * from './open.ts';
export * from './fsm.ts';
