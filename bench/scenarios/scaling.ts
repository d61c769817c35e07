/** 10 ms tasks over 1, 4, 16, 64 concurrent slots in 1–4 worker processes; efficiency vs ideal. */
import { bullmqScaling, type ScalingFigure } from '../baseline/scaling';
import { agentqScaling } from '../agentq/scaling';
import type { BenchContext, Missing } from './types';

export const SLOTS = [1, 4, 16, 64] as const;

export interface ScalingRow {
  slots: number;
  /** agentq's efficiency when it is there, plain BullMQ's otherwise (see `of`). */
  efficiency: number;
  of: 'agentq' | 'bullmq';
  bullmq: ScalingFigure;
  agentq: ScalingFigure | Missing;
}

export async function scalingScenario(ctx: BenchContext): Promise<ScalingRow[]> {
  const perSlot = ctx.quick ? 50 : 300;
  const rows: ScalingRow[] = [];
  for (const slots of SLOTS) {
    ctx.step(`scaling: ${slots} slots × ${perSlot} tasks of 10 ms, plain BullMQ`);
    const bullmq = await bullmqScaling(ctx, slots, perSlot);
    ctx.step(`scaling: ${slots} slots × ${perSlot} tasks of 10 ms, agentq`);
    const agentq = await agentqScaling(ctx, slots, perSlot);
    rows.push({ slots, efficiency: agentq.efficiency, of: 'agentq', bullmq, agentq });
  }
  return rows;
}

/** The 64-slot row (4 processes × 16, 10 ms tasks) side by side: issue 14's target is ≥ 0.9. */
export interface Scaling64 {
  layout: string;
  agentq: number | null;
  bullmq: number;
}

export function scaling64(rows: ScalingRow[]): Scaling64 {
  const row = rows.find((r) => r.slots === 64);
  if (!row) throw new Error('bench: no 64-slot scaling row');
  return {
    layout: `${row.bullmq.processes} × ${row.bullmq.concurrency}`,
    agentq: 'efficiency' in row.agentq ? row.agentq.efficiency : null,
    bullmq: row.bullmq.efficiency,
  };
}
