import { OrderBook } from './orders';

describe('OrderBook', () => {
  it('knows nothing of an order before its first payment result', () => {
    const book = new OrderBook();
    expect(book.get('mo-1')).toBeUndefined();
    expect(book.list()).toEqual([]);
  });

  it('marks an order paid on its first payment result', () => {
    const book = new OrderBook();
    expect(book.recordPayment('mo-1', 'e1')).toEqual({
      order: { merchantOrderNo: 'mo-1', status: 'PAID', deliveries: 1, distinctEvents: 1 },
      newEvent: true,
    });
    expect(book.get('mo-1')).toEqual({
      merchantOrderNo: 'mo-1',
      status: 'PAID',
      deliveries: 1,
      distinctEvents: 1,
    });
  });

  it('counts a repeated eventId as a delivery but not as a new event', () => {
    const book = new OrderBook();
    book.recordPayment('mo-1', 'e1');
    expect(book.recordPayment('mo-1', 'e1')).toEqual({
      order: { merchantOrderNo: 'mo-1', status: 'PAID', deliveries: 2, distinctEvents: 1 },
      newEvent: false,
    });
  });

  it('counts each distinct eventId, so a second payment event shows up', () => {
    const book = new OrderBook();
    book.recordPayment('mo-1', 'e1');
    const second = book.recordPayment('mo-1', 'e2');
    expect(second.newEvent).toBe(true);
    expect(second.order).toMatchObject({ deliveries: 2, distinctEvents: 2 });
  });

  it('keeps orders apart: the same eventId on another order is that order’s own event', () => {
    const book = new OrderBook();
    book.recordPayment('mo-1', 'e1');
    expect(book.recordPayment('mo-2', 'e1').newEvent).toBe(true);
    expect(book.get('mo-1')).toMatchObject({ deliveries: 1, distinctEvents: 1 });
    expect(book.list().map((order) => order.merchantOrderNo)).toEqual(['mo-1', 'mo-2']);
  });

  it('hands out copies, so a caller cannot change the book', () => {
    const book = new OrderBook();
    book.recordPayment('mo-1', 'e1').order.deliveries = 99;
    const seen = book.get('mo-1');
    if (seen) seen.distinctEvents = 99;
    expect(book.get('mo-1')).toMatchObject({ deliveries: 1, distinctEvents: 1 });
  });

  it('forgets everything on clear', () => {
    const book = new OrderBook();
    book.recordPayment('mo-1', 'e1');
    book.clear();
    expect(book.get('mo-1')).toBeUndefined();
    expect(book.list()).toEqual([]);
  });
});
