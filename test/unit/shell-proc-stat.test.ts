import { parseProcessSample } from '../../src/processors/process-tree';

// A real line of /proc/<pid>/stat, with a command name made to contain spaces and parentheses.
const STAT =
  '4242 (my (weird) cmd) S 4200 4242 4200 0 -1 4194560 1234 0 0 0 250 30 12 8 20 0 1 0 ' +
  '987654 123456789 2048 18446744073709551615 1 1 0 0 0 0 0 0 0 0 0 0 17 1 0 0 0 0 0';
const STATUS =
  'Name:\tmy (weird) cmd\nState:\tS (sleeping)\nVmPeak:\t  20000 kB\nVmRSS:\t    8192 kB\n';

describe('parseProcessSample', () => {
  it('reads parent, group, state, CPU (own and reaped children) and RSS', () => {
    expect(parseProcessSample(4242, STAT, STATUS)).toEqual({
      pid: 4242,
      ppid: 4200,
      pgrp: 4242,
      state: 'S',
      cpuMs: (250 + 30 + 12 + 8) * 10, // clock ticks of 10 ms
      rssBytes: 8192 * 1024,
    });
  });

  it('gives a zombie, which has no VmRSS line, zero RSS', () => {
    const zombie = STAT.replace(') S ', ') Z ');
    expect(parseProcessSample(4242, zombie, 'Name:\tx\nState:\tZ (zombie)\n')).toMatchObject({
      state: 'Z',
      rssBytes: 0,
    });
  });
});
