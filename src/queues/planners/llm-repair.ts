/**
 * The LLM repair planner (repair.ts): asks an OpenAI-compatible `/chat/completions` endpoint for
 * a patch from the goal, its graph, the failed task with its dependencies' results and the error;
 * validates it against the goal like a spawn; asks once more with the validation error when it is
 * invalid; then falls back to the template repair. A server that is down or slow falls back too.
 */
import { chatCompletion, type ChatEndpoint, type ChatMessage } from './chat-completions';
import type { TaskSpec } from '../../entities/task-model';
import type { RepairInput, RepairPatch, RepairPlanner } from '../repair';
import { extractJson } from './llm-planner';

export interface LlmRepairOptions extends ChatEndpoint {
  /** Repairs when the model fails twice or the endpoint is unreachable. */
  fallback: RepairPlanner;
  /** Told why the planner fell back. */
  onFallback?: (reason: string) => void;
}

const SYSTEM_PROMPT = [
  'A task of a goal run by autonomous agents failed for good. You repair the plan with a patch:',
  'new tasks to add, one of which replaces the failed task (its dependents then wait for it and',
  'get its result). Answer with ONE JSON object and nothing else, of this shape:',
  '{"tasks": [{"key": string, "title": string, "description": string, "type": string,',
  ' "dependsOn": [keys], "data": object, "replaces": string}], "cancel": [keys]}',
  'Exactly one task has "replaces" set to the failed task\'s key. Keys are new in the goal',
  '(letters, digits, ".", "-", "_"); dependsOn names tasks of the goal that do not depend on the',
  'failed task, or tasks of the patch; no cycle. type is a capability the goal already uses.',
  '"cancel" (optional) lists tasks of the goal that have not started and are no longer needed;',
  'what depends on them is cancelled with them.',
].join('\n');

type Message = ChatMessage;

function describe(input: RepairInput): string {
  return JSON.stringify({
    goal: input.goal.title,
    graph: input.goal.tasks.map(([key, type, dependsOn]) => ({ key, type, dependsOn })),
    failed: {
      key: input.failed.key,
      title: input.failed.title,
      description: input.failed.description,
      type: input.failed.type,
      dependsOn: input.failed.dependsOn,
      data: input.failed.data,
    },
    error: input.error,
    dependencyResults: input.results,
    revision: input.revision,
  });
}

export class LlmRepairPlanner implements RepairPlanner {
  constructor(private readonly options: LlmRepairOptions) {}

  private ask(messages: Message[]): Promise<string> {
    return chatCompletion(this.options, messages);
  }

  /** The patch in an answer, checked: a list of tasks, one replacing the failed one, valid. */
  private async patchOf(content: string, input: RepairInput): Promise<RepairPatch> {
    const raw = extractJson(content) as { tasks?: unknown; cancel?: unknown };
    if (!Array.isArray(raw.tasks)) throw new Error('tasks: must be a list of tasks');
    const cancel = raw.cancel ?? [];
    if (!Array.isArray(cancel) || !cancel.every((k) => typeof k === 'string')) {
      throw new Error('cancel: must be a list of task keys');
    }
    const tasks = raw.tasks as Array<TaskSpec & { replaces?: string }>;
    const replacing = tasks.filter((t) => t && t.replaces === input.failed.key);
    if (replacing.length !== 1) {
      throw new Error(`exactly one task must have "replaces": "${input.failed.key}"`);
    }
    await input.validate(
      tasks.map(({ replaces: _replaces, ...t }) => t),
      cancel as string[],
    );
    return { tasks, cancel: cancel as string[], planner: 'llm' };
  }

  async repair(input: RepairInput): Promise<RepairPatch | null> {
    const messages: Message[] = [
      { role: 'system', content: SYSTEM_PROMPT },
      { role: 'user', content: describe(input) },
    ];
    let reason = '';
    for (let round = 0; round < 2; round++) {
      let content: string;
      try {
        content = await this.ask(messages);
      } catch (error) {
        reason = `LLM endpoint unusable: ${(error as Error).message}`;
        break;
      }
      try {
        return await this.patchOf(content, input);
      } catch (error) {
        reason = `invalid patch from the LLM: ${(error as Error).message}`;
        messages.push(
          { role: 'assistant', content },
          {
            role: 'user',
            content: `That is not a valid patch (${(error as Error).message}). Answer again with the JSON object only.`,
          },
        );
      }
    }
    this.options.onFallback?.(reason);
    return this.options.fallback.repair(input);
  }
}
