import { PassThrough } from 'node:stream';
import { createOutput, paintState } from '../../src/cli/output';

function capture(isTTY: boolean) {
  const stdout = Object.assign(new PassThrough(), { isTTY });
  const stderr = Object.assign(new PassThrough(), { isTTY });
  let text = '';
  stdout.on('data', (chunk: Buffer) => (text += chunk.toString()));
  return { streams: { stdout, stderr }, text: () => text };
}

describe('CLI output', () => {
  it('never colours when stdout is not a TTY', () => {
    const { streams, text } = capture(false);
    const out = createOutput(false, streams);
    out.print(paintState(out.color, 'FAILED'));
    out.table(['state'], [[paintState(out.color, 'DONE')]]);
    expect(text()).toContain('FAILED');
    expect(text()).not.toContain('\x1b[');
  });

  it('never colours with --json, even on a TTY', () => {
    const { streams, text } = capture(true);
    const out = createOutput(true, streams);
    out.printJson({ state: paintState(out.color, 'DONE') });
    expect(JSON.parse(text())).toEqual({ state: 'DONE' });
  });

  it('prints one JSON document with dates as ISO strings', () => {
    const { streams, text } = capture(false);
    createOutput(true, streams).printJson({ at: new Date('2026-01-01T00:00:00.000Z') });
    expect(JSON.parse(text())).toEqual({ at: '2026-01-01T00:00:00.000Z' });
  });

  it('draws no progress bar when stderr is not a TTY', () => {
    const { streams } = capture(false);
    let written = '';
    streams.stderr.on('data', (chunk: Buffer) => (written += chunk.toString()));
    const bar = createOutput(false, streams).progress(10, 'tasks');
    bar.update(5);
    bar.stop();
    expect(written).toBe('');
  });
});
