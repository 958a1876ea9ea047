import { roundedMinorUnits, signedMinorUnits } from './amounts';

describe('statement amounts to minor units', () => {
  it('signed amounts exactly, refusing more decimals than the currency has', () => {
    expect(signedMinorUnits('19.99', 'CNY')).toBe(1999);
    expect(signedMinorUnits('-5.00', 'CNY')).toBe(-500);
    expect(signedMinorUnits('0.01', 'CNY')).toBe(1);
    expect(signedMinorUnits('500', 'JPY')).toBe(500);
    expect(() => signedMinorUnits('0.001', 'CNY')).toThrow(RangeError);
    expect(() => signedMinorUnits('1e3', 'CNY')).toThrow(RangeError);
    expect(() => signedMinorUnits('--1', 'CNY')).toThrow(RangeError);
  });

  it("WeChat Pay's five-decimal fees: exact when whole fen, else half away from zero", () => {
    expect(roundedMinorUnits('0.03000', 'CNY')).toEqual({ value: 3, exact: true });
    expect(roundedMinorUnits('0.11994', 'CNY')).toEqual({ value: 12, exact: false });
    expect(roundedMinorUnits('0.00600', 'CNY')).toEqual({ value: 1, exact: false });
    expect(roundedMinorUnits('0.00500', 'CNY')).toEqual({ value: 1, exact: false });
    expect(roundedMinorUnits('0.00499', 'CNY')).toEqual({ value: 0, exact: false });
    expect(roundedMinorUnits('-0.00600', 'CNY')).toEqual({ value: -1, exact: false });
    expect(roundedMinorUnits('-0.74070', 'CNY')).toEqual({ value: -74, exact: false });
    expect(roundedMinorUnits('12', 'CNY')).toEqual({ value: 1200, exact: true });
    expect(() => roundedMinorUnits('0.1.2', 'CNY')).toThrow(RangeError);
  });
});
