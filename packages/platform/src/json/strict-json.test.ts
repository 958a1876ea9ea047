import { DuplicateKeyError, parseStrictJson } from './strict-json';

describe('parseStrictJson', () => {
  it('parses JSON as JSON.parse does', () => {
    const text = '{"a":1,"b":[{"a":2},{"a":3}],"c":{"d":"x\\"}{,"}}';
    expect(parseStrictJson(text)).toEqual(JSON.parse(text));
    expect(parseStrictJson('[1,"a",{"k":null}]')).toEqual([1, 'a', { k: null }]);
  });

  it('refuses a key named twice in one object, at any depth', () => {
    expect(() => parseStrictJson('{"amount":1,"amount":19999}')).toThrow(DuplicateKeyError);
    expect(() => parseStrictJson('{"a":{"x":1,"y":2,"x":3}}')).toThrow('duplicate key "x"');
    expect(() => parseStrictJson('[{"k":1},{"k":2,"k":3}]')).toThrow(DuplicateKeyError);
    // The same key spelled with an escape is the same key.
    expect(() => parseStrictJson('{"amount":1,"\\u0061mount":2}')).toThrow(DuplicateKeyError);
  });

  it('does not mistake values or keys of sibling objects for duplicates', () => {
    expect(parseStrictJson('{"a":"a","b":{"a":1},"c":[{"a":1},{"a":2}]}')).toBeDefined();
    expect(parseStrictJson('{"a":["a","a"],"b":"b"}')).toBeDefined();
  });

  it('refuses what is not JSON', () => {
    expect(() => parseStrictJson('{"a":')).toThrow(SyntaxError);
  });
});
