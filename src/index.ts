/**
 * agentq's public API (`import { … } from 'agentq'`): the seed's names in TypeScript casing, the
 * handler contract, the executors, and `createAgentSystem` which wires them all.
 */
export { createAgentSystem } from './agent-system';
export type { AgentSystem, AgentSystemOptions, ConfigOverrides } from './agent-system';

export { loadConfig, parseRedisUrl } from './config';
export type { AgentqConfig, DbConfig, RedisConfig } from './config';
export { AgentqError, ConflictError, ConnectionError, InputError, NotFoundError } from './errors';
/** Thrown by a handler: the task fails at once, without retry (BullMQ's own class). */
export { UnrecoverableError } from 'bullmq';

export { TaskRegistry } from './entities/task-registry';
export type { TaskRegistryOptions } from './entities/task-registry';
export { TASK_STATES, TRANSITIONS, IllegalTransitionError } from './entities/task-state';
export type { TaskState } from './entities/task-state';
export type {
  GoalBudget,
  GoalRecord,
  GoalState,
  GoalUsage,
  Json,
  PlanSpec,
  TaskEventRecord,
  TaskRecord,
  TaskSpec,
  AgentInfo,
  CapabilityLimits,
  RateLimit,
  ApprovalSpec,
} from './entities/task-model';
export { formatRate, parseCapabilityLimits, parseRate } from './queues/capability-limits';
export { viewCapabilityLimits } from './queues/limits-view';
export type { CapabilityLimitsView } from './queues/limits-view';

export { RedisCoordinator } from './queues/redis-coordinator';
export type { RedisCoordinatorOptions, PendingTaskSummary } from './queues/redis-coordinator';
export { SupervisorAgent } from './queues/supervisor-agent';
export type { SubmittedGoal, SubmitOptions, SupervisorOptions } from './queues/supervisor-agent';
export { resolvePlan } from './queues/plan-schema';
export { APPROVALS_QUEUE } from './queues/names';
export type { ApprovalResult, AwaitingApproval } from './queues/approvals';
export { loadPlanFile } from './queues/plan-loader';
export { checkRedisServer, RedisConfigError } from './queues/redis-checks';
export { recoverGoals, goalsRedisLost } from './queues/recover';
export type { RecoveryReport } from './queues/recover';

export { AutonomousAgent } from './processors/autonomous-agent';
export type { AutonomousAgentOptions, WorkdirProvider } from './processors/autonomous-agent';
export type {
  ExecutionMetrics,
  HandlerMap,
  SpawnTaskSpec,
  TaskContext,
  TaskHandler,
  TaskInput,
} from './processors/handler-types';
export { loadHandlerModule } from './processors/handler-module';
export { createShellHandler, ShellCommandError } from './processors/shell-executor';
export type { ShellHandlerOptions, ShellResult } from './processors/shell-executor';
export { WorktreeManager } from './processors/worktree';
export { withWorktree } from './processors/worktree-handler';
export type { WorktreeManagerOptions } from './processors/worktree';
export { CircuitBreaker } from './processors/circuit-breaker';
export { listDeadLetters, retryAllDeadLetters, retryDeadLetter } from './processors/dead-letters';
export type { DeadLetter } from './processors/dead-letters';

export { InterfaceAgent } from './interface/interface-agent';
export type { InterfaceAgentOptions, TaskSummary } from './interface/interface-agent';
export type { SystemStatus } from './interface/interface-status';
export { startMirror } from './mirror/mirror';
export type { MirrorHandle, MirrorOptions } from './mirror/mirror';
export { createApp } from './board/app';
export { startServer } from './board/server';
export type { TaskChannelPayload, GoalChannelPayload } from './mirror/channel-payload';
export { startTracing, tracingFromConfig, flushTracing } from './tracing';
export type { Tracing, TracingOptions } from './tracing';
export { startInternalWorkers, joinInternalWorkers } from './queues/internal-workers';
export type { InternalWorkersOptions, InternalWorkerSettings } from './queues/internal-workers';
export { joinMirror } from './mirror/shared-mirror';
export * as operations from './interface/operations';
export type {
  ApproveTaskInput,
  DecisionOutcome,
  RejectTaskInput,
  CancelGoalInput,
  CancelTaskInput,
  CreateTaskInput,
  RedriveDeadLetterInput,
  RetryTaskInput,
  SubmitGoalInput,
} from './interface/operations';
export { createReleasers, withReleasers } from './system/releasers';
export type { Releasers } from './system/releasers';
