import type { BenchResult } from './lib/stats.ts';
export interface ChurnOptions { services: number; rate: number; runs: number; keep?: boolean }
export async function churn(_o: ChurnOptions): Promise<BenchResult[]> { throw new Error('not yet'); }
