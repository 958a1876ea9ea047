import { errorMessage } from '../errors';
import type { Logger } from '../logging';

export interface PeriodicOptions {
  /** What the work is called in the log line of a failed run (`<name> failed`). */
  name: string;
  everyMs: number;
  /** When the first run comes after `start` (default: `everyMs`). */
  firstAfterMs?: number;
  /** One run; a run that throws is logged and the next one comes as usual. */
  run: () => unknown;
}

/**
 * Periodic work (the sweeps, the outbox relay's poll): one run at a time, the next one `everyMs`
 * after the last ended, none after `stop`, which waits for the run in hand.
 */
export class Periodic {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private stopped = true;

  constructor(
    private readonly options: PeriodicOptions,
    private readonly log: Logger,
  ) {}

  start(): void {
    this.stopped = false;
    this.timer = setTimeout(() => this.tick(), this.options.firstAfterMs ?? this.options.everyMs);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    this.timer = undefined;
    await this.running;
  }

  private tick(): void {
    this.running = (async () => this.options.run())()
      .then(
        () => undefined,
        (error: unknown) => this.log.warn({ err: errorMessage(error) }, `${this.options.name} failed`),
      )
      .finally(() => {
        this.running = undefined;
        if (!this.stopped) this.timer = setTimeout(() => this.tick(), this.options.everyMs);
      });
  }
}
