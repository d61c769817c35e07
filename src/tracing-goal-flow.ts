/**
 * The `goal <id>` span around the writing of a goal's flow. Every job of the flow carries the
 * span's context in its options (BullMQ's `telemetry.metadata`), so each task's `process` span — in
 * whichever agent process runs it — has the goal span as its parent, and the whole goal is one
 * trace.
 *
 * It speaks only BullMQ's `Telemetry` interface: no OpenTelemetry module is imported here.
 */
import { SpanKind, type Telemetry } from 'bullmq';

/** Span attributes of the goal span. */
export const GOAL_ID_ATTRIBUTE = 'agentq.goal.id';
export const GOAL_TITLE_ATTRIBUTE = 'agentq.goal.title';

/** Runs `write` inside the goal span, handing it the span's propagation metadata. */
export async function traceGoal<T>(
  telemetry: Telemetry | undefined,
  goal: { id: string; title: string },
  write: (metadata: string | undefined) => Promise<T>,
): Promise<T> {
  if (!telemetry) return write(undefined);
  const { tracer, contextManager } = telemetry;
  const parent: unknown = contextManager.active();
  const span = tracer.startSpan(`goal ${goal.id}`, { kind: SpanKind.INTERNAL }, parent);
  span.setAttributes({ [GOAL_ID_ATTRIBUTE]: goal.id, [GOAL_TITLE_ATTRIBUTE]: goal.title });
  const context = span.setSpanOnContext(parent);
  try {
    return await contextManager.with(context, () => write(contextManager.getMetadata(context)));
  } catch (error) {
    span.recordException(error as Error);
    throw error;
  } finally {
    span.end();
  }
}
