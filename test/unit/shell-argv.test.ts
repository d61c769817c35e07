import { InputError } from '../../src/errors';
import { splitCommandLine, toArgv } from '../../src/processors/shell-argv';
import { TailBuffer } from '../../src/processors/shell-tail';

describe('splitCommandLine', () => {
  it('splits on whitespace and groups quoted words as sh would', () => {
    expect(splitCommandLine(`  npm run  task -- --name "a b" 'c d' e\\ f  `)).toEqual([
      'npm',
      'run',
      'task',
      '--',
      '--name',
      'a b',
      'c d',
      'e f',
    ]);
  });

  it('keeps everything inside single quotes literal, shell characters included', () => {
    expect(splitCommandLine(`sh -c 'echo $HOME; ls | wc -l && \`id\`'`)).toEqual([
      'sh',
      '-c',
      'echo $HOME; ls | wc -l && `id`',
    ]);
  });

  it('joins adjacent quoted parts into one word and keeps empty quoted words', () => {
    expect(splitCommandLine(`a"b"'c' "" x`)).toEqual(['abc', '', 'x']);
  });

  it('honours the escapes sh honours inside double quotes', () => {
    expect(splitCommandLine(`echo "say \\"hi\\" \\\\ \\$x \\n"`)).toEqual([
      'echo',
      'say "hi" \\ $x \\n',
    ]);
  });

  it.each([';', '|', '&', '<', '>', '(', ')', '$', '`'])(
    'refuses an unquoted %s rather than run it without a shell',
    (ch) => {
      expect(() => splitCommandLine(`echo a ${ch} b`)).toThrow(InputError);
      expect(() => splitCommandLine(`echo a ${ch} b`)).toThrow(/^command: /);
    },
  );

  it('refuses expansions inside double quotes', () => {
    expect(() => splitCommandLine(`echo "$HOME"`)).toThrow('would be expanded by a shell');
    expect(() => splitCommandLine('echo "`id`"')).toThrow(InputError);
  });

  it('refuses unterminated quotes and a trailing backslash', () => {
    expect(() => splitCommandLine(`echo 'a`)).toThrow('unterminated');
    expect(() => splitCommandLine(`echo "a`)).toThrow('unterminated');
    expect(() => splitCommandLine(`echo a\\`)).toThrow('trailing');
  });
});

describe('toArgv', () => {
  it('takes an argv array as it is', () => {
    expect(toArgv(['node', '-e', 'console.log(1); $x'])).toEqual([
      'node',
      '-e',
      'console.log(1); $x',
    ]);
  });

  it('refuses an empty command', () => {
    expect(() => toArgv('   ')).toThrow('command: is empty');
    expect(() => toArgv([])).toThrow(InputError);
  });
});

describe('TailBuffer', () => {
  it('keeps only the last bytes of a long stream', () => {
    const tail = new TailBuffer(10);
    for (let i = 0; i < 100; i++) tail.push(Buffer.from(`${i % 10}`));
    expect(tail.text()).toBe('0123456789');
    expect(tail.text(3)).toBe('789');
  });

  it('never starts in the middle of a UTF-8 character', () => {
    const tail = new TailBuffer(5);
    tail.push(Buffer.from('ééé')); // 6 bytes: the tail starts after the first é's first byte
    expect(tail.text()).toBe('éé');
  });
});
