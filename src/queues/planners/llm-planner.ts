/**
 * Asks an OpenAI-compatible `/chat/completions` endpoint for a plan, validates the answer like any
 * plan, asks once more (with the validation error) when it is invalid, then falls back to the
 * template planner. A server that is down or slow also falls back. Nothing else uses the network.
 */
import { chatCompletion, type ChatEndpoint, type ChatMessage } from './chat-completions';
import type { PlanSpec } from '../../entities/task-model';
import { resolvePlan, toPlanSpec } from '../plan-schema';
import type { PlannedGoal, Planner } from './planner';

export interface LlmPlannerOptions extends ChatEndpoint {
  /** Used when the model fails twice or the endpoint is unreachable. */
  fallback: Planner;
  /** Told why the planner fell back (a warning in long-running processes). */
  onFallback?: (reason: string) => void;
}

const SYSTEM_PROMPT = [
  'You decompose a goal into a plan: a directed acyclic graph of tasks for autonomous agents.',
  'Answer with ONE JSON object and nothing else, of this shape:',
  '{"goal": string, "tasks": [{"key": string, "title": string, "description": string,',
  ' "type": string, "priority": 1-10, "dependsOn": [keys]}]}',
  'key: letters, digits, "-" or "_", unique. type: the capability the task needs, such as',
  'design, backend, frontend, testing, review, documentation, research, development.',
  'dependsOn lists keys of earlier tasks only; there must be no cycle.',
].join('\n');

type Message = ChatMessage;

/** The JSON object in a model's answer, with or without a ``` fence around it. */
export function extractJson(content: string): unknown {
  const fenced = /```(?:json)?\s*([\s\S]*?)```/.exec(content);
  const text = (fenced ? fenced[1]! : content).trim();
  const start = text.indexOf('{');
  const end = text.lastIndexOf('}');
  if (start < 0 || end < start) throw new Error('the answer holds no JSON object');
  return JSON.parse(text.slice(start, end + 1)) as unknown;
}

export class LlmPlanner implements Planner {
  constructor(private readonly options: LlmPlannerOptions) {}

  private ask(messages: Message[]): Promise<string> {
    return chatCompletion(this.options, messages);
  }

  async plan(goal: string, options: { key?: string } = {}): Promise<PlannedGoal> {
    const messages: Message[] = [
      { role: 'system', content: SYSTEM_PROMPT },
      { role: 'user', content: `Goal: ${goal}` },
    ];
    let reason = '';
    for (let round = 0; round < 2; round++) {
      let content: string;
      try {
        content = await this.ask(messages);
      } catch (error) {
        reason = `LLM endpoint unusable: ${(error as Error).message}`;
        break; // Asking again will not revive a server that is down.
      }
      try {
        const raw = extractJson(content) as Partial<PlanSpec>;
        const plan = toPlanSpec(
          resolvePlan({ ...raw, goal, ...(options.key ? { key: options.key } : {}) }),
        );
        return { plan, planner: 'llm' };
      } catch (error) {
        reason = `invalid plan from the LLM: ${(error as Error).message}`;
        messages.push(
          { role: 'assistant', content },
          {
            role: 'user',
            content: `That is not a valid plan (${(error as Error).message}). Answer again with the JSON object only.`,
          },
        );
      }
    }
    this.options.onFallback?.(reason);
    const fallback = await this.options.fallback.plan(goal, options);
    return { ...fallback, planner: `${fallback.planner} (llm fallback)` };
  }
}
