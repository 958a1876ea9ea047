import { apiKeyChecker } from './api-keys';

describe('apiKeyChecker', () => {
  const isKey = apiKeyChecker(['sk_test_one', 'sk_test_two']);

  it('accepts each configured key and nothing else', () => {
    expect(isKey('sk_test_one')).toBe(true);
    expect(isKey('sk_test_two')).toBe(true);
    for (const wrong of ['', 'sk_test_on', 'sk_test_one ', 'SK_TEST_ONE', 'sk_test_three'])
      expect(isKey(wrong)).toBe(false);
  });

  it('compares digests of equal length, so a prefix of a key is no closer than any other guess', () => {
    // By construction: timingSafeEqual throws on unequal lengths; digests make every input 32 bytes.
    expect(() => isKey('s')).not.toThrow();
    expect(() => isKey('x'.repeat(10_000))).not.toThrow();
  });
});
