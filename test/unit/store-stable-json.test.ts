import { reviveDates, stableStringify } from '../../src/entities/stable-json';

describe('stable JSON for the json store', () => {
  it('sorts keys at every level, writes dates as ISO strings and drops undefined', () => {
    const text = stableStringify(
      { b: 1, a: { d: [{ z: 1, y: 2 }], c: new Date(0) }, u: undefined },
      0,
    );
    expect(text).toBe('{"a":{"c":"1970-01-01T00:00:00.000Z","d":[{"y":2,"z":1}]},"b":1}');
  });

  it('turns the named fields back into dates and leaves null alone', () => {
    const record = reviveDates<{ at: Date; gone: null }>(
      { at: '1970-01-01T00:00:00.000Z', gone: null },
      ['at', 'gone'],
    );
    expect(record.at).toEqual(new Date(0));
    expect(record.gone).toBeNull();
  });
});
