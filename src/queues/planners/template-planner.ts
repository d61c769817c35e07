/**
 * Goals as text → a plan from a template: the first template (user templates first, then the
 * built-ins) one of whose `match` words appears in the goal; `generic` otherwise. User templates
 * are YAML files (`name`, `match`, `tasks`) in a directory (AGENTQ_TEMPLATES_DIR).
 */
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parse } from 'yaml';
import { z } from 'zod';
import type { TaskSpec } from '../../entities/task-model';
import { InputError } from '../../errors';
import { BUILTIN_TEMPLATES, type PlanTemplate } from './builtin-templates';
import type { PlannedGoal, Planner } from './planner';

const templateFile = z.object({
  name: z.string().min(1),
  match: z.array(z.string()).default([]),
  tasks: z.array(z.looseObject({ key: z.string() })).min(1),
});

/** Loads every `.yaml`/`.yml` file of `dir` as a template; a bad file is an InputError naming it. */
export async function loadUserTemplates(dir: string): Promise<PlanTemplate[]> {
  let names: string[];
  try {
    names = (await readdir(dir)).filter((n) => /\.ya?ml$/i.test(n)).sort();
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? 'unreadable';
    throw new InputError(`cannot read the templates directory (${code})`, 'AGENTQ_TEMPLATES_DIR');
  }
  return Promise.all(
    names.map(async (name) => {
      const file = join(dir, name);
      let raw: unknown;
      try {
        raw = parse(await readFile(file, 'utf8'));
      } catch (error) {
        throw new InputError(`not a valid YAML template: ${(error as Error).message}`, file);
      }
      const parsed = templateFile.safeParse(raw);
      if (!parsed.success) {
        const issue = parsed.error.issues[0]!;
        throw new InputError(`${issue.path.join('.')}: ${issue.message}`, file);
      }
      return {
        name: parsed.data.name,
        match: parsed.data.match.map((m) => m.toLowerCase()),
        tasks: parsed.data.tasks as unknown as TaskSpec[],
      };
    }),
  );
}

function fill(text: string | undefined, goal: string): string | undefined {
  return text?.split('{goal}').join(goal);
}

function words(goal: string): string {
  return ` ${goal.toLowerCase().replace(/[^a-z0-9]+/g, ' ')} `;
}

export interface TemplatePlannerOptions {
  /** Tried before the built-ins. @defaultValue [] */
  templates?: PlanTemplate[];
}

export class TemplatePlanner implements Planner {
  private readonly templates: PlanTemplate[];

  constructor(options: TemplatePlannerOptions = {}) {
    this.templates = [...(options.templates ?? []), ...BUILTIN_TEMPLATES];
  }

  choose(goal: string): PlanTemplate {
    const text = words(goal);
    return (
      this.templates.find((t) => t.match.some((m) => text.includes(` ${m} `))) ??
      this.templates.find((t) => t.name === 'generic')!
    );
  }

  plan(goal: string, options: { key?: string } = {}): Promise<PlannedGoal> {
    const template = this.choose(goal);
    const tasks = template.tasks.map((task) => ({
      ...task,
      title: fill(task.title, goal)!,
      ...(task.description !== undefined ? { description: fill(task.description, goal) } : {}),
    }));
    return Promise.resolve({
      plan: { goal, ...(options.key ? { key: options.key } : {}), tasks },
      planner: `template:${template.name}`,
    });
  }
}
