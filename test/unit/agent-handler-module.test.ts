/** Handler maps: which exports are accepted, and the errors that name what is wrong. */
import { InputError } from '../../src/errors';
import { handlerFor, pickHandlers, toHandlerMap } from '../../src/processors/handler-module';
import { assertJson } from '../../src/processors/json-value';

const handler = async () => null;

describe('handler modules', () => {
  it('accepts module.exports maps and default exports', () => {
    expect(Object.keys(toHandlerMap({ a: handler }, 'f.js'))).toEqual(['a']);
    expect(
      Object.keys(toHandlerMap({ __esModule: true, default: { b: handler } }, 'f.js')),
    ).toEqual(['b']);
    expect(Object.keys(toHandlerMap({ default: { c: handler } }, 'f.mjs'))).toEqual(['c']);
  });

  it('refuses a module that exports a function or a non-function handler', () => {
    expect(() => toHandlerMap(handler, 'f.js')).toThrow(/exports a function/);
    expect(() => toHandlerMap({ a: 'nope' }, 'f.js')).toThrow(/'a' is a string/);
  });

  it('names every declared capability without a handler', () => {
    expect(() => pickHandlers({ a: handler }, ['a', 'b', 'c'])).toThrow(InputError);
    expect(() => pickHandlers({ a: handler }, ['a', 'b', 'c'])).toThrow(/'b', 'c'/);
  });

  it("gives capabilities without a handler of their own the '*' handler", () => {
    const own = async () => 'own';
    const any = async () => 'any';
    const picked = pickHandlers({ design: own, '*': any }, ['design', 'backend']);
    expect(picked).toEqual({ design: own, backend: any });
    expect(handlerFor({ design: own }, 'backend')).toBeUndefined();
    expect(() => pickHandlers({ design: own }, ['backend'])).toThrow(/'\*' would serve/);
  });

  it('rejects results that are not JSON, naming where', () => {
    expect(() => assertJson({ ok: [1, 2] }, 'r')).not.toThrow();
    expect(() => assertJson({ when: new Date() }, 'r')).toThrow(/result\.when is a Date/);
    expect(() => assertJson({ f: [() => 1] }, 'r')).toThrow(/result\.f\[0\] is a function/);
    expect(() => assertJson(Number.NaN, 'r')).toThrow(/NaN/);
  });
});
