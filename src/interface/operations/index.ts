/**
 * The operations: every mutation of agentq, each with one input type, written once. REST routes,
 * CLI commands, InterfaceAgent and SupervisorAgent call these and nothing else to change state.
 */
export type {
  Actor,
  ExtendedGoalShape,
  GoalSubmitter,
  OperationDeps,
  SubmittedGoalShape,
  SubmittingDeps,
} from './deps';
export { createTask, createTaskSchema, type CreateTaskInput } from './create-task';
export {
  submitGoal,
  submitGoalSchema,
  idempotencyKeySchema,
  type SubmitGoalInput,
} from './submit-goal';
export { cancelTask, type CancelTaskInput, type CancelTaskOutcome } from './cancel-task';
export { retryTask, type RetryOutcome, type RetryTaskInput } from './retry-task';
export { cancelGoal, type CancelGoalInput } from './cancel-goal';
export { extendGoal, type ExtendGoalInput } from './extend-goal';
export { pauseGoal, type PauseGoalInput } from './pause-goal';
export { resumeGoal, type ResumeGoalInput } from './resume-goal';
export { raiseGoalBudget, type RaiseGoalBudgetInput } from './raise-goal-budget';
export {
  redriveAllDeadLetters,
  redriveDeadLetter,
  type RedriveDeadLetterInput,
} from './redrive-dead-letter';
export { clearLimits, setLimits, type LimitsOutcome, type SetLimitsInput } from './set-limits';
export { parseInput } from './parse-input';
export {
  approveTask,
  approveTaskSchema,
  rejectTask,
  rejectTaskSchema,
  type ApproveTaskInput,
  type DecisionOutcome,
  type RejectTaskInput,
} from './decide-approval';
