import { UnverifiedBudget, type UnverifiedLimits } from './unverified-budget';

const limits: UnverifiedLimits = { burst: 3, perSecond: 1, samplesPerMinute: 4, maxSources: 2 };

describe('UnverifiedBudget: what unverified notifications may cost', () => {
  let clock = 0;
  const budget = () => new UnverifiedBudget(limits, () => clock);
  beforeEach(() => (clock = 60_000 * 1000));

  it('a source gets its burst, then is refused until its bucket refills', () => {
    const b = budget();
    expect([b.admit('a'), b.admit('a'), b.admit('a')]).toEqual(['sampled', 'sampled', 'sampled']);
    expect(b.admit('a')).toBe('refused');
    clock += 999;
    expect(b.admit('a')).toBe('refused');
    clock += 1;
    expect(b.admit('a')).toBe('sampled');
    expect(b.admit('a')).toBe('refused');
  });

  it('one source over its limit does not refuse another', () => {
    const b = budget();
    for (let i = 0; i < 3; i++) b.admit('a');
    expect(b.admit('a')).toBe('refused');
    expect(b.admit('b')).toBe('sampled');
  });

  it('keeps a sample of the first samplesPerMinute of each minute, whatever the sources; counts the rest', () => {
    const b = new UnverifiedBudget({ ...limits, maxSources: 100 }, () => clock);
    const answers = ['a', 'b', 'c', 'd', 'e', 'f'].map((source) => b.admit(source));
    expect(answers).toEqual(['sampled', 'sampled', 'sampled', 'sampled', 'counted', 'counted']);
    clock += 60_000;
    expect(b.admit('g')).toBe('sampled');
  });

  it('tracks at most maxSources: idle ones are dropped, else new sources share one bucket', () => {
    const b = new UnverifiedBudget({ ...limits, samplesPerMinute: 100 }, () => clock);
    b.admit('a');
    b.admit('b');
    // Both spent a token just now: neither is idle, so "c" and "d" share one bucket.
    expect(b.admit('c')).not.toBe('refused');
    expect(b.admit('d')).not.toBe('refused');
    expect(b.admit('c')).not.toBe('refused');
    expect(b.admit('d')).toBe('refused');
    expect(b.sources).toBe(3);
    // Once "a" and "b" have refilled, they make room again.
    clock += 10_000;
    expect(b.admit('e')).toBe('sampled');
    expect(b.sources).toBeLessThanOrEqual(2);
  });
});
