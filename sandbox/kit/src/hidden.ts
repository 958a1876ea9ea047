/**
 * Trades a sandbox's API has lost sight of, for hidden losses made on purpose (issue 29.5): the
 * shopper pays, no notification of it is ever sent, and the trade's query and close answer "not
 * found", as if it had never been made, while the sandbox's ledger and statement keep it and its
 * money. Only reconciliation can then find the payment. A trade is named by its out-trade-no or its
 * merchant order number. `PUT /sandbox/hidden/:number` hides, `DELETE /sandbox/hidden/:number`
 * shows again, `GET /sandbox/hidden` lists; `DELETE /sandbox/faults` shows every one again.
 */
import type { FastifyInstance } from 'fastify';
import type { Logger } from '@payments/platform';

export class HiddenTrades {
  private readonly numbers = new Set<string>();

  hide(number: string): void {
    this.numbers.add(number);
  }

  show(number: string): void {
    this.numbers.delete(number);
  }

  clear(): void {
    this.numbers.clear();
  }

  list(): string[] {
    return [...this.numbers];
  }

  /** Whether the trade these numbers name (its out-trade-no, its merchant order number) is hidden. */
  has(...numbers: (string | null | undefined)[]): boolean {
    return numbers.some((number) => number !== null && number !== undefined && this.numbers.has(number));
  }
}

/** The control routes of a sandbox that honours hidden trades (its API and notifications read `hidden`). */
export function registerHiddenTrades(app: FastifyInstance, hidden: HiddenTrades, log: Logger): void {
  app.get('/sandbox/hidden', async () => ({ hidden: hidden.list() }));
  app.put<{ Params: { number: string } }>('/sandbox/hidden/:number', async (request) => {
    hidden.hide(request.params.number);
    log.info({ number: request.params.number }, 'trade hidden from the API and notifications');
    return { hidden: hidden.list() };
  });
  app.delete<{ Params: { number: string } }>('/sandbox/hidden/:number', async (request) => {
    hidden.show(request.params.number);
    log.info({ number: request.params.number }, 'trade shown again');
    return { hidden: hidden.list() };
  });
}
