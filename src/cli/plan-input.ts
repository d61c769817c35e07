/**
 * `agentq plan -`: the plan from standard input. JSON when its first non-blank character is `{`
 * (as any JSON plan's is), YAML otherwise, each under its file's size cap (plan-loader.ts); the
 * errors name `stdin` where a file's would name the file.
 */
import { InputError } from '../errors';
import {
  MAX_PLAN_FILE_BYTES,
  MAX_YAML_PLAN_FILE_BYTES,
  parsePlanText,
} from '../queues/plan-loader';

export const STDIN_NAME = 'stdin';

export async function readPlanFromStdin(
  stream: NodeJS.ReadableStream = process.stdin,
): Promise<unknown> {
  // Typed at a terminal: say what it waits for rather than seem to hang.
  if ((stream as NodeJS.ReadStream).isTTY) {
    process.stderr.write('Reading the plan from standard input (JSON or YAML; Ctrl-D to end)…\n');
  }
  const bytes = await readAtMost(stream, MAX_PLAN_FILE_BYTES + 1);
  const text = bytes.toString('utf8');
  const format = /^\s*\{/.test(text) ? 'json' : 'yaml';
  const limit = format === 'json' ? MAX_PLAN_FILE_BYTES : MAX_YAML_PLAN_FILE_BYTES;
  if (bytes.length > limit) {
    throw new InputError(
      format === 'json'
        ? `the plan is larger than ${limit / 1024 / 1024} MiB (${limit} bytes)`
        : `the YAML plan is larger than ${limit / 1024 / 1024} MiB (${limit} bytes); ` +
            'write a plan this large as JSON (up to 32 MiB)',
      STDIN_NAME,
    );
  }
  if (text.trim() === '') throw new InputError('is empty: give a plan (JSON or YAML)', STDIN_NAME);
  return parsePlanText(text, STDIN_NAME, format);
}

/** Reads the stream to its end, or stops (and stops reading) after `limit` bytes. */
function readAtMost(stream: NodeJS.ReadableStream, limit: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let total = 0;
    const finish = () => {
      stream.off('data', onData);
      stream.off('end', finish);
      stream.off('error', onError);
      stream.pause();
      resolve(Buffer.concat(chunks, Math.min(total, limit)));
    };
    const onData = (chunk: Buffer | string) => {
      const buffer = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
      chunks.push(buffer);
      total += buffer.length;
      if (total >= limit) finish();
    };
    const onError = (error: Error) =>
      reject(new InputError(`cannot be read (${error.message})`, STDIN_NAME));
    stream.on('data', onData);
    stream.once('end', finish);
    stream.once('error', onError);
  });
}
