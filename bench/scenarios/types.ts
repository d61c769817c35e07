/** What a scenario of the suite gets and what the report says about an agentq side not there yet. */
import type { BenchContext } from '../context';

export type { BenchContext };

/** Marks a figure agentq cannot produce yet, naming the part it waits for. */
export interface Missing {
  missing: string;
}

export function needs(part: string): Missing {
  return { missing: `needs ${part}, not on main yet` };
}
