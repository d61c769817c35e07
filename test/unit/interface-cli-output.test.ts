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

  it('writes a progress note off a TTY as a line each time it changes', () => {
    const { streams } = capture(false);
    let written = '';
    streams.stderr.on('data', (chunk: Buffer) => (written += chunk.toString()));
    const bar = createOutput(false, streams).progress(5, 'g-1');
    for (const note of ['waiting: a', 'waiting: a', '', 'waiting: b', 'waiting: a']) bar.note(note);
    bar.stop();
    expect(written).toBe('waiting: a\nwaiting: b\nwaiting: a\n');
  });

  it('shows the note beside the bar on a TTY', () => {
    const { streams } = capture(true);
    let written = '';
    streams.stderr.on('data', (chunk: Buffer) => (written += chunk.toString()));
    const bar = createOutput(false, streams).progress(5, 'g-1');
    bar.update(2);
    bar.note("waiting: no live agent serves 'backend'");
    bar.stop();
    expect(written).toContain("2/5 waiting: no live agent serves 'backend'");
  });
});
