/** What the example merchant knows about one order's payment (the body of `GET /orders/:merchantOrderNo`). */
export interface OrderState {
  merchantOrderNo: string;
  /** A real shop creates its orders as PENDING at checkout; this one only learns of an order when it is paid. */
  status: 'PENDING' | 'PAID';
  /** Every accepted delivery, repeats included. */
  deliveries: number;
  /** Distinct eventIds of payment.succeeded: exactly 1 for an order paid once (CONTRACT 8.2). */
  distinctEvents: number;
}

export interface PaymentRecorded {
  order: OrderState;
  /** False when this eventId was seen before: an at-least-once repeat, acknowledged but not a new payment. */
  newEvent: boolean;
}

/** The in-memory order book: pure logic, no I/O. */
export class OrderBook {
  private readonly orders = new Map<string, { state: OrderState; eventIds: Set<string> }>();

  /** Marks the order paid. Idempotent by eventId: a repeat is counted as a delivery, not as an event. */
  recordPayment(merchantOrderNo: string, eventId: string): PaymentRecorded {
    let entry = this.orders.get(merchantOrderNo);
    if (!entry) {
      entry = {
        state: { merchantOrderNo, status: 'PENDING', deliveries: 0, distinctEvents: 0 },
        eventIds: new Set(),
      };
      this.orders.set(merchantOrderNo, entry);
    }
    const newEvent = !entry.eventIds.has(eventId);
    entry.eventIds.add(eventId);
    entry.state.status = 'PAID';
    entry.state.deliveries += 1;
    entry.state.distinctEvents = entry.eventIds.size;
    return { order: { ...entry.state }, newEvent };
  }

  get(merchantOrderNo: string): OrderState | undefined {
    const entry = this.orders.get(merchantOrderNo);
    return entry && { ...entry.state };
  }

  list(): OrderState[] {
    return [...this.orders.values()].map((entry) => ({ ...entry.state }));
  }

  clear(): void {
    this.orders.clear();
  }
}
