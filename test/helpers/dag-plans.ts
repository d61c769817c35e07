/**
 * Plans for the DAG tests and the check every run must pass: each task ran exactly once, after
 * all of its dependencies ended, with every dependency's result.
 */
import type { PlanSpec, TaskSpec } from '../../src/entities/task-model';
import type { RunRecord } from './dag-worker-process';

/** A plan task titled after its key; `extra` sets attempts, optional, data, … */
export const task = (
  key: string,
  type: string,
  dependsOn: string[] = [],
  extra: Partial<TaskSpec> = {},
): TaskSpec => ({
  key,
  title: `task ${key}`,
  type,
  dependsOn,
  ...extra,
});

export function diamond(): PlanSpec {
  return {
    goal: 'diamond',
    tasks: [
      task('design', 'a'),
      task('backend', 'b', ['design']),
      task('frontend', 'c', ['design']),
      task('tests', 'a', ['backend', 'frontend']),
    ],
  };
}

export function chain(n: number): PlanSpec {
  return {
    goal: `chain of ${n}`,
    tasks: Array.from({ length: n }, (_, i) =>
      task(`c${i}`, 'abc'[i % 3]!, i ? [`c${i - 1}`] : []),
    ),
  };
}

export function fanOutIn(n: number): PlanSpec {
  const middle = Array.from({ length: n }, (_, i) => task(`m${i}`, 'abc'[i % 3]!, ['start']));
  return {
    goal: `fan-out/fan-in of ${n}`,
    tasks: [
      task('start', 'a'),
      ...middle,
      task(
        'end',
        'b',
        middle.map((m) => m.key),
      ),
    ],
  };
}

export function fiveDependents(): PlanSpec {
  const dependents = Array.from({ length: 5 }, (_, i) => task(`d${i}`, 'abc'[i % 3]!, ['shared']));
  return { goal: 'five dependents', tasks: [task('shared', 'a'), ...dependents] };
}

/** A seeded random DAG: each task depends on up to 4 earlier ones. */
export function randomDag(n: number, seed: number): PlanSpec {
  let s = seed >>> 0;
  const rand = () => (s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32;
  const tasks: TaskSpec[] = [];
  for (let i = 0; i < n; i++) {
    const deps = new Set<string>();
    const count = i === 0 ? 0 : Math.floor(rand() * 5);
    for (let j = 0; j < count; j++) deps.add(`r${Math.floor(rand() * i)}`);
    tasks.push(task(`r${i}`, 'abc'[Math.floor(rand() * 3)]!, [...deps]));
  }
  return { goal: `random DAG of ${n} (seed ${seed})`, tasks };
}

/** Every problem found with a run of `plan` (an empty list when it was correct). */
export function checkRun(plan: PlanSpec, records: RunRecord[]): string[] {
  const problems: string[] = [];
  const byKey = new Map<string, RunRecord>();
  for (const r of records) {
    if (byKey.has(r.key)) problems.push(`${r.key} ran twice`);
    byKey.set(r.key, r);
  }
  for (const t of plan.tasks) {
    const run = byKey.get(t.key);
    if (!run) {
      problems.push(`${t.key} never ran`);
      continue;
    }
    for (const d of t.dependsOn ?? []) {
      const dep = byKey.get(d);
      if (!dep || dep.endSeq > run.startSeq) problems.push(`${t.key} started before ${d} ended`);
      const got = run.deps[d] as { from?: string } | undefined;
      if (got?.from !== d) problems.push(`${t.key} did not get ${d}'s result`);
    }
    const extra = Object.keys(run.deps).filter((k) => !(t.dependsOn ?? []).includes(k));
    if (extra.length > 0) problems.push(`${t.key} got results it does not depend on: ${extra}`);
  }
  return problems;
}
