import { signBody, verifySignature } from './signature';

describe('signatures', () => {
  const body = JSON.stringify({ channelOrderNo: 'co_1', amount: 100 });
  const now = 1_800_000_000;

  it('verifies what it signed', () => {
    expect(verifySignature('s3cret', body, signBody('s3cret', body, now), now)).toEqual({ valid: true });
  });

  it('refuses a tampered body, another key, a stale or future time, and junk', () => {
    const header = signBody('s3cret', body, now);
    expect(verifySignature('s3cret', body.replace('100', '1'), header, now).valid).toBe(false);
    expect(verifySignature('other', body, header, now).valid).toBe(false);
    expect(verifySignature('s3cret', body, header, now + 301)).toEqual({
      valid: false,
      reason: 'signature timestamp outside tolerance',
    });
    expect(verifySignature('s3cret', body, header, now - 301).valid).toBe(false);
    expect(verifySignature('s3cret', body, header, now + 300).valid).toBe(true);
    expect(verifySignature('s3cret', body, undefined, now).valid).toBe(false);
    expect(verifySignature('s3cret', body, 't=abc,v1=zz', now).valid).toBe(false);
    const forgedTime = header.replace(`t=${now}`, `t=${now + 1}`);
    expect(verifySignature('s3cret', body, forgedTime, now).valid).toBe(false);
  });

  it('accepts a header with several v1 values when any one matches (secret rotation), and only then', () => {
    const current = signBody('new-secret', body, now);
    const old = signBody('old-secret', body, now).split(',')[1]!;
    const rotated = `${current.split(',')[0]},${old},${current.split(',')[1]}`;
    expect(rotated.match(/v1=/g)).toHaveLength(2);
    expect(verifySignature('new-secret', body, rotated, now)).toEqual({ valid: true });
    expect(verifySignature('old-secret', body, rotated, now)).toEqual({ valid: true });
    expect(verifySignature('third-secret', body, rotated, now).valid).toBe(false);
  });
});
