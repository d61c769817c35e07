/**
 * A FlowProducer that opens a `goal <id>` span around the submission of a goal's flow (a flow
 * whose root is in the goal-roots queue). BullMQ's own `addFlow`/`addNode` spans then start
 * inside it and every job carries its `addNode` span's context in its options, so each task's
 * `process` span (in whichever agent process runs it) has the goal span as an ancestor.
 *
 * It speaks only BullMQ's `Telemetry` interface: no OpenTelemetry module is imported here.
 */
import {
  FlowProducer,
  SpanKind,
  type FlowJob,
  type FlowOpts,
  type JobNode,
  type QueueBaseOptions,
  type Telemetry,
} from 'bullmq';
import { GOALS_QUEUE } from './queues/names';

/** Span attributes of the goal span. */
export const GOAL_ID_ATTRIBUTE = 'agentq.goal.id';
export const GOAL_TITLE_ATTRIBUTE = 'agentq.goal.title';

function goalOf(flow: FlowJob): { id: string; title: string } | null {
  if (flow.queueName !== GOALS_QUEUE) return null;
  const data = flow.data as { goalId?: unknown; title?: unknown } | undefined;
  const id = typeof data?.goalId === 'string' ? data.goalId : flow.opts?.jobId;
  if (!id) return null;
  return { id, title: typeof data?.title === 'string' ? data.title : '' };
}

export class GoalTracingFlowProducer extends FlowProducer {
  private readonly goalTelemetry: Telemetry;

  constructor(options: QueueBaseOptions & { telemetry: Telemetry }) {
    super(options);
    this.goalTelemetry = options.telemetry;
  }

  override async add(flow: FlowJob, opts?: FlowOpts): Promise<JobNode> {
    const goal = goalOf(flow);
    if (!goal) return super.add(flow, opts);
    const { tracer, contextManager } = this.goalTelemetry;
    const parent: unknown = contextManager.active();
    const span = tracer.startSpan(`goal ${goal.id}`, { kind: SpanKind.INTERNAL }, parent);
    span.setAttributes({ [GOAL_ID_ATTRIBUTE]: goal.id, [GOAL_TITLE_ATTRIBUTE]: goal.title });
    try {
      return await contextManager.with(span.setSpanOnContext(parent), () => super.add(flow, opts));
    } catch (error) {
      span.recordException(error as Error);
      throw error;
    } finally {
      span.end();
    }
  }
}
