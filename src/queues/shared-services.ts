/**
 * Services a process runs once however many parts use them: the mirror candidate of a (store,
 * coordinator) pair and the internal workers of a coordinator. Each is started by the first part
 * that joins, stopped when the last one leaves, and stopped anyway when the coordinator closes.
 * The coordinator owns one of these, so there is no module-level state.
 */

export interface Stoppable {
  close(): Promise<void>;
}

/** A part's hold on a shared service; `close()` (idempotent) lets go of it. */
export interface ServiceLease<T extends Stoppable = Stoppable> {
  /** The shared service itself, for reads (a mirror's stats); not to be closed directly. */
  readonly service: T;
  close(): Promise<void>;
}

interface Entry {
  users: number;
  service: Stoppable;
}

export class SharedServices {
  private readonly entries = new Map<object, Map<string, Entry>>();
  private closed = false;

  /**
   * Joins the service `name` of `owner` (an object the service belongs to, e.g. a store),
   * starting it with `start` when nobody runs it yet.
   */
  join<T extends Stoppable>(owner: object, name: string, start: () => T): ServiceLease<T> {
    if (this.closed) throw new Error(`cannot start ${name}: its coordinator is closed`);
    let byName = this.entries.get(owner);
    if (!byName) this.entries.set(owner, (byName = new Map()));
    let entry = byName.get(name);
    if (!entry) byName.set(name, (entry = { users: 0, service: start() }));
    entry.users++;
    const own = entry;
    let left = false;
    return {
      service: own.service as T,
      close: async () => {
        if (left) return;
        left = true;
        own.users--;
        if (own.users > 0 || byName.get(name) !== own) return;
        byName.delete(name);
        if (byName.size === 0) this.entries.delete(owner);
        await own.service.close();
      },
    };
  }

  /** True while someone holds `name` of `owner`. */
  has(owner: object, name: string): boolean {
    return this.entries.get(owner)?.has(name) ?? false;
  }

  /** Stops every service still running (the coordinator is closing), the newest first. */
  async closeAll(): Promise<void> {
    this.closed = true;
    const all = [...this.entries.values()].flatMap((byName) => [...byName.values()]);
    this.entries.clear();
    for (const entry of all.reverse()) await entry.service.close().catch(() => undefined);
  }
}
