/**
 * An agent's side of per-key concurrency (queues/key-slots.ts): a claimed task with a
 * `concurrencyKey` enters its key's slots before its handler runs — or is parked: its job goes
 * to BullMQ's delayed set (no attempt charged) until a slot of its key is handed to it, when the
 * agent that freed the slot promotes it back to waiting. While a task runs its slot's lease is
 * renewed; every agent sweeps now and then, so slots of killed agents come back when their lease
 * runs out, and slots a raised limit added are filled.
 */
import { DelayedError, type Job } from 'bullmq';
import { coerceError } from '../errors';
import {
  enterKeySlot,
  jobRef,
  keySlotsPlace,
  leaveKeySlot,
  renewKeySlots,
  sweepKeySlots,
  type HandedSlot,
  type KeySlotsPlace,
} from '../queues/key-slots';
import type { RedisCoordinator } from '../queues/redis-coordinator';
import type { TaskJobData } from '../queues/task-job';

export interface KeySlotGateOptions {
  coordinator: RedisCoordinator;
  capabilities: readonly string[];
  /** How long a slot holds without renewal (the agent's lock duration). */
  leaseMs: number;
  /**
   * How long a parked job stays delayed when no slot is handed to it (a safety net: it is then
   * claimed again and parks again or runs). @defaultValue 600000 (10 min)
   */
  parkMs?: number;
  onError: (error: Error) => void;
}

/** How long a promotion waits for a parked job still on its way to the delayed set. */
const PROMOTE_TRIES = 100;
const PROMOTE_WAIT_MS = 20;

export class KeySlotGate {
  private readonly places = new Map<string, KeySlotsPlace>();
  /** Slots held by tasks running here: job ref → [capability, key]. */
  private readonly held = new Map<string, [capability: string, key: string]>();
  private timer: NodeJS.Timeout | null = null;
  private readonly parkMs: number;

  constructor(private readonly options: KeySlotGateOptions) {
    this.parkMs = options.parkMs ?? 600_000;
  }

  /** Starts renewing and sweeping, a third of a lease apart. */
  start(): void {
    const every = Math.max(100, Math.floor(this.options.leaseMs / 3));
    this.timer = setInterval(() => void this.tick().catch((e: unknown) => this.report(e)), every);
    this.timer.unref();
  }

  close(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  /**
   * Before the handler: true to run now; false when the task is keyless or its capability has
   * no per-key limit. Parks the job and throws BullMQ's DelayedError when the key is full.
   */
  async enter(capability: string, job: Job<TaskJobData>, token: string): Promise<boolean> {
    const key = job.data.concurrencyKey;
    if (!key) return false;
    const ref = jobRef(job.data.shard, job.id!);
    const entry = await enterKeySlot(this.place(capability), key, ref, this.options.leaseMs);
    if (entry === 'unlimited') return false;
    if (entry === 'run') {
      this.held.set(ref, [capability, key]);
      return true;
    }
    await job.moveToDelayed(Date.now() + this.parkMs, token);
    throw new DelayedError();
  }

  /** After the handler (whatever its outcome): frees the slot and promotes whom it goes to. */
  async leave(capability: string, job: Job<TaskJobData>): Promise<void> {
    const key = job.data.concurrencyKey!;
    const ref = jobRef(job.data.shard, job.id!);
    this.held.delete(ref);
    const handed = await leaveKeySlot(this.place(capability), key, ref, this.options.leaseMs);
    this.promoteLater(capability, handed);
  }

  private place(capability: string): KeySlotsPlace {
    let place = this.places.get(capability);
    if (!place) {
      place = keySlotsPlace(this.options.coordinator, capability);
      this.places.set(capability, place);
    }
    return place;
  }

  private async tick(): Promise<void> {
    const byCapability = new Map<string, Array<[string, string]>>();
    for (const [ref, [capability, key]] of this.held) {
      const list = byCapability.get(capability) ?? [];
      list.push([key, ref]);
      byCapability.set(capability, list);
    }
    for (const capability of this.options.capabilities) {
      const place = this.place(capability);
      await renewKeySlots(place, byCapability.get(capability) ?? [], this.options.leaseMs);
      this.promoteLater(capability, await sweepKeySlots(place, this.options.leaseMs));
    }
  }

  private promoteLater(capability: string, handed: HandedSlot[]): void {
    for (const slot of handed) {
      void this.promote(capability, slot).catch((e: unknown) => this.report(e));
    }
  }

  /**
   * Promotes a parked job a slot was handed to. It may still be active (the agent parking it has
   * not moved it to the delayed set yet): then it is tried again shortly. A job that is gone or
   * has finished gives its slot on at once.
   */
  private async promote(capability: string, slot: HandedSlot): Promise<void> {
    const queue = this.options.coordinator.queue(capability, slot.shard);
    for (let tries = 0; tries < PROMOTE_TRIES; tries++) {
      const job = (await queue.getJob(slot.jobId)) as Job<TaskJobData> | undefined;
      const state = job ? await job.getState() : 'unknown';
      if (state === 'delayed') {
        try {
          return await job!.promote();
        } catch {
          continue; // promoted or claimed meanwhile: look again
        }
      }
      if (state === 'active') {
        await new Promise((resolve) => setTimeout(resolve, PROMOTE_WAIT_MS));
        continue;
      }
      if (state === 'waiting' || state === 'prioritized' || state === 'waiting-children') return;
      // Finished or gone (a cancelled goal's job): the slot is nobody's; hand it on.
      const place = this.place(capability);
      const ref = jobRef(slot.shard, slot.jobId);
      this.promoteLater(capability, await leaveKeySlot(place, slot.key, ref, this.options.leaseMs));
      return;
    }
  }

  private report(thrown: unknown): void {
    this.options.onError(coerceError(thrown));
  }
}
