/**
 * The cashier's reads of its pay orders, shared (issue 27.4). Every page, poll and live stream of
 * one order on this gateway costs one read, not one per viewer: reads asked for within a few
 * milliseconds of each other go to the database together (two queries for any number of orders,
 * in chunks), a read is reused while it is fresh, and one loop on this gateway refreshes every
 * order that has a live stream, telling its streams only when what they show changed. The
 * database pool is the one applies and settlements use, so the cashier's share of it stays
 * bounded by the number of orders watched, never by the number of viewers.
 */
import type { CashierOrderView } from './order-views';

export type LoadViews = (payOrderIds: readonly number[]) => Promise<Map<number, CashierOrderView>>;
export type ViewListener = (view: CashierOrderView) => void;

export interface SharedReadsOptions {
  /** A read this recent is served again (a page load, a poll). */
  freshMs: number;
  /** How often the orders with a live stream are read. */
  refreshMs: number;
  /** Reads asked for within this are sent together. */
  gatherMs: number;
  /** Orders per query. */
  chunk: number;
  /** Told of every query sent (a metric). */
  onQueries: (count: number) => void;
}

const DEFAULTS: SharedReadsOptions = {
  freshMs: 1000,
  refreshMs: 1000,
  gatherMs: 5,
  chunk: 500,
  onQueries: () => undefined,
};

interface Waiter {
  resolve: (view: CashierOrderView | undefined) => void;
  reject: (error: unknown) => void;
}

export class SharedReads {
  private readonly options: SharedReadsOptions;
  /** Insertion order is read order (an entry is re-inserted when read again), so pruning starts at the front. */
  private readonly cache = new Map<number, { view: CashierOrderView | undefined; readAt: number }>();
  private waiting = new Map<number, Waiter[]>();
  private gather: NodeJS.Timeout | undefined;
  private readonly watched = new Map<number, { listeners: Set<ViewListener>; shown: string | undefined }>();
  private loop: NodeJS.Timeout | undefined;
  private refreshing = false;
  /** Queries sent so far (for tests and the bench): two per chunk of orders. */
  queries = 0;

  constructor(
    private readonly load: LoadViews,
    options: Partial<SharedReadsOptions> = {},
  ) {
    this.options = { ...DEFAULTS, ...options };
  }

  /** The order as it is now, read at most `maxAgeMs` ago (undefined: no such order). */
  read(payOrderId: number, maxAgeMs = this.options.freshMs): Promise<CashierOrderView | undefined> {
    const cached = this.cache.get(payOrderId);
    if (cached && Date.now() - cached.readAt < maxAgeMs) return Promise.resolve(cached.view);
    return new Promise((resolve, reject) => {
      const list = this.waiting.get(payOrderId);
      if (list) list.push({ resolve, reject });
      else this.waiting.set(payOrderId, [{ resolve, reject }]);
      this.gather ??= setTimeout(() => void this.flush(), this.options.gatherMs);
    });
  }

  /** Calls `listener` with the order now and whenever what the cashier shows of it changes. */
  watch(payOrderId: number, listener: ViewListener): () => void {
    let entry = this.watched.get(payOrderId);
    if (!entry) {
      entry = { listeners: new Set(), shown: undefined };
      this.watched.set(payOrderId, entry);
    }
    const watching = entry;
    watching.listeners.add(listener);
    this.loop ??= setInterval(() => void this.refresh(), this.options.refreshMs);
    void this.read(payOrderId).then(
      (view) => view && watching.listeners.has(listener) && listener(view),
      () => undefined,
    );
    return () => {
      watching.listeners.delete(listener);
      if (watching.listeners.size === 0 && this.watched.get(payOrderId) === watching)
        this.watched.delete(payOrderId);
      if (this.watched.size === 0 && this.loop) {
        clearInterval(this.loop);
        this.loop = undefined;
      }
    };
  }

  /** Orders with a live stream on this gateway, and the streams on them. */
  get watching(): { orders: number; streams: number } {
    let streams = 0;
    for (const entry of this.watched.values()) streams += entry.listeners.size;
    return { orders: this.watched.size, streams };
  }

  stop(): void {
    if (this.loop) clearInterval(this.loop);
    this.loop = undefined;
    this.watched.clear();
  }

  private async refresh(): Promise<void> {
    // A slow database: skip a round rather than pile reads up behind it.
    if (this.refreshing) return;
    this.refreshing = true;
    try {
      const ids = [...this.watched.keys()];
      const views = await Promise.all(
        ids.map((id) => this.read(id, this.options.refreshMs / 2).catch(() => undefined)),
      );
      const now = Date.now();
      ids.forEach((id, index) => {
        const view = views[index];
        const entry = this.watched.get(id);
        if (!view || !entry) return;
        // What a viewer sees changes with the rows, and once with the clock (an expiry).
        const shown = `${JSON.stringify(view)}|${now >= new Date(view.order.expire_at).getTime()}`;
        if (shown === entry.shown) return;
        entry.shown = shown;
        for (const listener of entry.listeners) listener(view);
      });
    } finally {
      this.refreshing = false;
    }
  }

  private async flush(): Promise<void> {
    this.gather = undefined;
    const waiting = this.waiting;
    this.waiting = new Map();
    const ids = [...waiting.keys()];
    for (let start = 0; start < ids.length; start += this.options.chunk) {
      const chunk = ids.slice(start, start + this.options.chunk);
      try {
        this.queries += 2;
        this.options.onQueries(2);
        const views = await this.load(chunk);
        const readAt = Date.now();
        for (const id of chunk) {
          const view = views.get(id);
          this.cache.delete(id);
          this.cache.set(id, { view, readAt });
          for (const waiter of waiting.get(id)!) waiter.resolve(view);
        }
      } catch (error) {
        for (const id of chunk) for (const waiter of waiting.get(id)!) waiter.reject(error);
      }
    }
    this.prune();
  }

  private prune(): void {
    const oldest = Date.now() - 10 * Math.max(this.options.freshMs, this.options.refreshMs);
    for (const [id, entry] of this.cache) {
      if (entry.readAt >= oldest) break;
      this.cache.delete(id);
    }
  }
}

/**
 * Answers that never change once found (a token's checkout, a return address's order), kept for
 * a while so a page's polls and reloads do not read them again; bounded, oldest out first.
 */
export class Remembered<V> {
  private readonly entries = new Map<string, { value: V; at: number }>();

  constructor(
    private readonly find: (key: string) => Promise<V | undefined>,
    private readonly options: { max: number; ttlMs: number } = { max: 10_000, ttlMs: 60_000 },
  ) {}

  async get(key: string): Promise<V | undefined> {
    const known = this.entries.get(key);
    if (known && Date.now() - known.at < this.options.ttlMs) return known.value;
    const value = await this.find(key);
    this.entries.delete(key);
    // Only what was found: an unknown key stays unknown to a later lookup, never remembered as absent.
    if (value !== undefined) {
      if (this.entries.size >= this.options.max) this.entries.delete(this.entries.keys().next().value!);
      this.entries.set(key, { value, at: Date.now() });
    }
    return value;
  }
}
