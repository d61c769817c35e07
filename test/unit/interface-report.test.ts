import { formatStatusReport } from '../../src/interface/interface-report';
import type { SystemStatus } from '../../src/interface/interface-status';

const zero = { BACKLOG: 0, PENDING: 0, ASSIGNED: 0, ACTIVE: 0, DONE: 0, FAILED: 0, CANCELLED: 0 };

function status(): SystemStatus {
  return {
    generatedAt: new Date('2026-01-02T03:04:05.000Z'),
    totals: { ...zero, DONE: 3, FAILED: 1, PENDING: 2, all: 6 },
    byType: {
      dev: { ...zero, DONE: 3, PENDING: 1 },
      qa: { ...zero, FAILED: 1, PENDING: 1 },
    },
    goals: { active: 2, paused: 1, recent: [] },
    budgets: [
      {
        goalId: 'g-3',
        title: 'Spend',
        state: 'PAUSED',
        budget: { tokens: 1000 },
        usage: { tokens: 1020, costUsd: 0, wallMs: 50 },
        used: 1.02,
        pausedBy: 'budget',
        running: 0,
        held: 4,
        source: 'redis',
      },
    ],
    agents: [
      {
        id: 'dev-1',
        capabilities: ['dev'],
        host: 'box',
        pid: 42,
        startedAt: new Date(0),
        lastSeenAt: new Date('2026-01-02T03:04:00.000Z'),
        running: ['g-1.a'],
        concurrency: 4,
        breakers: { dev: 'closed' },
      },
    ],
    pending: [],
    queues: [
      { name: 'dev', waiting: 1, active: 0, delayed: 0, failed: 0, completed: 3, paused: false },
      { name: 'qa', waiting: 1, active: 0, delayed: 0, failed: 1, completed: 0, paused: true },
    ],
    recentFailures: [
      {
        taskId: 'g-1.test',
        title: 'Run the tests',
        type: 'qa',
        error: { message: 'exit code 1' },
        at: new Date(0),
      },
    ],
    stuck: [
      {
        taskId: 'g-2.lint',
        key: 'lint',
        title: 'Lint',
        type: 'qa',
        state: 'PENDING',
        reason: { kind: 'paused', capability: 'qa' },
        message: "queue 'qa' is paused",
      },
    ],
    limits: [
      {
        capability: 'dev',
        limits: { concurrency: 4, rate: { max: 60, durationMs: 60000 }, perKey: 2 },
        running: 3,
        rateLimitedForMs: 0,
        keys: { running: 3, keysRunning: 2, parked: 7, keysParked: 1 },
      },
    ],
    awaitingApproval: {
      count: 1,
      tasks: [
        {
          taskId: 'g-3.gate',
          goalId: 'g-3',
          key: 'gate',
          title: 'Deploy?',
          prompt: 'Ship it?',
          since: new Date('2026-01-02T03:03:05.000Z'),
          deadline: new Date('2026-01-02T04:03:05.000Z'),
          onTimeout: 'reject',
        },
      ],
    },
  };
}

describe('formatStatusReport', () => {
  const report = formatStatusReport(status());

  it('lists capability limits with what runs under them', () => {
    expect(report).toContain(
      'Limits:\n  dev: concurrency 4 (3 running), rate 60/1m, per key 2 (7 parked)',
    );
  });

  it('starts with the time and the totals by state', () => {
    expect(report.split('\n')[0]).toBe('agentq status at 2026-01-02T03:04:05.000Z');
    expect(report).toContain('Tasks: 6 total — BACKLOG 0, PENDING 2, ASSIGNED 0, ACTIVE 0, DONE 3');
    expect(report).toContain('Goals: 2 active, 1 paused');
  });

  it('lists goal budgets with the share used and the held tasks', () => {
    expect(report).toMatch(/g-3\W+PAUSED\W+102 %\W+tokens 1000\W+4\b/);
  });

  it('has one table row per capability, with the paused queue marked', () => {
    const devRow = report.split('\n').find((l) => /^\W*dev\s/.test(l));
    expect(devRow).toMatch(/dev\s.*\b3\b/);
    expect(report).toContain('qa (paused)');
  });

  it('lists live agents with their load', () => {
    expect(report).toContain('Agents (1 live):');
    expect(report).toMatch(/dev-1.*1\/4/);
  });

  it('says why a task is not being claimed and lists recent failures', () => {
    expect(report).toContain("g-2.lint [qa] Lint: queue 'qa' is paused");
    expect(report).toContain('g-1.test [qa] Run the tests: exit code 1');
  });

  it('lists what awaits approval, since when, and what its timeout decides', () => {
    expect(report).toContain(
      'Awaiting approval: 1\n  g-3.gate Deploy?: since 2026-01-02T03:03:05.000Z (60s ago), rejects at 2026-01-02T04:03:05.000Z — Ship it?',
    );
  });

  it('has no colour codes', () => {
    expect(report).not.toContain('\x1b[');
  });

  it('tells how to start an agent when none is live', () => {
    expect(formatStatusReport({ ...status(), agents: [] })).toContain('agentq worker');
  });
});
