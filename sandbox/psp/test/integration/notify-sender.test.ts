import { createServer, type Socket } from 'node:net';
import { createLogger, verifySignature } from '@payments/platform';
import { eventually, sleep } from '@payments/testkit';
import { NotifySender } from '../../src/notify-sender';
import { NotifyReceiver } from './receiver';

const SECRET = 'sender_secret';

describe('NotifySender (real HTTP)', () => {
  const receiver = new NotifyReceiver();
  const log = createLogger('notify-sender-test', 'silent');

  beforeAll(() => receiver.start());
  afterEach(() => receiver.reset());
  afterAll(() => receiver.stop());

  it('gives up once the next retry would pass giveUpAfterMs', async () => {
    const sender = new NotifySender({ secret: SECRET, log, retryDelaysMs: [50], giveUpAfterMs: 300 });
    try {
      receiver.answers = Array.from({ length: 100 }, () => 500);
      sender.send(receiver.url, 'ntf_give_up', { channelOrderNo: 'co_g' });
      await sleep(600);
      const attempts = receiver.for('co_g').length;
      expect(attempts).toBeGreaterThanOrEqual(3);
      expect(attempts).toBeLessThanOrEqual(8);
      await sleep(200);
      expect(receiver.for('co_g')).toHaveLength(attempts);
    } finally {
      sender.cancelAll();
    }
  });

  it('cancelAll stops pending retries and delayed first sends', async () => {
    const sender = new NotifySender({ secret: SECRET, log, retryDelaysMs: [100] });
    receiver.answers = [500];
    sender.send(receiver.url, 'ntf_cancel', { channelOrderNo: 'co_c' });
    sender.send(receiver.url, 'ntf_later', { channelOrderNo: 'co_l' }, 100);
    await eventually('first attempt', async () => receiver.for('co_c').length === 1);
    sender.cancelAll();
    await sleep(300);
    expect(receiver.for('co_c')).toHaveLength(1);
    expect(receiver.for('co_l')).toHaveLength(0);
  });

  it('times a hanging merchant out and retries', async () => {
    const sender = new NotifySender({ secret: SECRET, log, retryDelaysMs: [50], timeoutMs: 200 });
    try {
      // A TCP server that accepts and never answers.
      const sockets = new Set<Socket>();
      const silent = createServer((socket) => sockets.add(socket));
      await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
      const port = (silent.address() as { port: number }).port;
      sender.send(`http://127.0.0.1:${port}/notify`, 'ntf_hang', { channelOrderNo: 'co_h' });
      await eventually('a retry after the timeout', async () => sockets.size >= 2, 3000);
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => silent.close(() => resolve()));
    } finally {
      sender.cancelAll();
    }
  });

  it('signs every send with a fresh timestamp over the same body', async () => {
    const sender = new NotifySender({ secret: SECRET, log, retryDelaysMs: [1100] });
    try {
      receiver.answers = [500];
      sender.send(receiver.url, 'ntf_sign', { channelOrderNo: 'co_s', amount: 5 });
      await eventually('two sends', async () => receiver.for('co_s').length === 2, 4000);
      const [first, second] = receiver.for('co_s');
      expect(second!.rawBody).toBe(first!.rawBody);
      expect(second!.signature).not.toBe(first!.signature);
      for (const send of [first!, second!])
        expect(verifySignature(SECRET, send.rawBody, send.signature).valid).toBe(true);
    } finally {
      sender.cancelAll();
    }
  });
});
