import { InputError } from '../../src/errors';
import {
  INTERFACE_HELP,
  parseInterfaceCommand,
  tokenize,
} from '../../src/interface/interface-commands';

describe('the interface command language', () => {
  it('splits words and keeps quoted phrases together', () => {
    expect(tokenize(`create "Write the docs" type=docs description='a b'`)).toEqual([
      'create',
      'Write the docs',
      'type=docs',
      'description=a b',
    ]);
  });

  it.each(['status', 'agents', 'pending', 'help', 'STATUS'])('knows %s', (line) => {
    expect(parseInterfaceCommand(line)).toEqual({ name: line.toLowerCase() });
  });

  it.each(['show', 'cancel', 'retry'] as const)('reads the task id of %s', (name) => {
    expect(parseInterfaceCommand(`${name} g-1.build`)).toEqual({ name, id: 'g-1.build' });
  });

  it('reads approve with an optional note and reject with an optional reason', () => {
    expect(parseInterfaceCommand('approve g-1.gate')).toEqual({ name: 'approve', id: 'g-1.gate' });
    expect(parseInterfaceCommand('approve g-1.gate note="looks good"')).toEqual({
      name: 'approve',
      id: 'g-1.gate',
      note: 'looks good',
    });
    expect(parseInterfaceCommand("reject g-1.gate reason='not now'")).toEqual({
      name: 'reject',
      id: 'g-1.gate',
      reason: 'not now',
    });
    expect(() => parseInterfaceCommand('approve')).toThrow(/^id: /);
    expect(() => parseInterfaceCommand('reject note=x')).toThrow(/^id: /);
    expect(() => parseInterfaceCommand('reject g-1.gate note=x')).toThrow(/^reason: unexpected/);
    expect(INTERFACE_HELP).toContain('approve <id>');
  });

  it('refuses show, cancel and retry without an id, naming the field', () => {
    expect(() => parseInterfaceCommand('cancel')).toThrow(InputError);
    expect(() => parseInterfaceCommand('show')).toThrow(/^id: /);
  });

  it('reads create with a quoted title, a type, a priority and a description', () => {
    expect(
      parseInterfaceCommand('create "Write docs" type=docs priority=7 description="for users"'),
    ).toEqual({
      name: 'create',
      title: 'Write docs',
      type: 'docs',
      priority: 7,
      description: 'for users',
    });
  });

  it('refuses create without a title, without a type, or with a priority out of range', () => {
    expect(() => parseInterfaceCommand('create type=docs')).toThrow(/^title: /);
    expect(() => parseInterfaceCommand('create "x"')).toThrow(/^type: /);
    expect(() => parseInterfaceCommand('create "x" type=docs priority=11')).toThrow(/^priority: /);
    expect(() => parseInterfaceCommand('create "x" type=docs priority=high')).toThrow(InputError);
  });

  it('marks anything else as unknown, and an empty line as help', () => {
    expect(parseInterfaceCommand('frobnicate now')).toEqual({
      name: 'unknown',
      word: 'frobnicate',
    });
    expect(parseInterfaceCommand('   ')).toEqual({ name: 'help' });
  });

  it('lists every command in the help text', () => {
    for (const word of [
      'status',
      'show',
      'cancel',
      'retry',
      'create',
      'agents',
      'pending',
      'help',
    ]) {
      expect(INTERFACE_HELP).toContain(`  ${word}`);
    }
  });
});
