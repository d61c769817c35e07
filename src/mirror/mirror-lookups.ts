/** The Redis reads the stream-entry mapping needs for a few rare entries (mirror-events.ts). */
export interface MirrorLookups {
  /** `failedReason` of a job by its full key (`<bullPrefix>:<queue>:<jobId>`), null when gone. */
  failedReasonOf(jobKey: string): Promise<string | null>;
  /** Fields of a job's hash (`failedReason`, `atm`, `data`, …), null where absent. */
  jobFields(jobKey: string, fields: string[]): Promise<Array<string | null>>;
  /** The job key of a task job in the queue being mapped. */
  jobKey(jobId: string): string;
}
