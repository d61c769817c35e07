/**
 * Reads a plan file (JSON, or YAML for `.yaml`/`.yml`) into a plan object. Unreadable files,
 * files over `MAX_PLAN_FILE_BYTES` and syntax errors are `InputError`s that name the file and, for
 * syntax errors, the line.
 */
import { open } from 'node:fs/promises';
import { parseDocument } from 'yaml';
import { InputError } from '../errors';

/**
 * The largest plan file read. Checked before parsing: a YAML parser holds about 40 bytes of heap
 * per byte of input (a 100 MB YAML plan ran the CLI out of a 4 GB heap), and the largest plan
 * allowed (`MAX_TASKS` tasks) fits well under this in JSON.
 */
export const MAX_PLAN_FILE_BYTES = 32 * 1024 * 1024;

/** The line of a JSON syntax error: from V8's message when it has one, else from the YAML parser. */
function jsonLine(text: string, error: Error): string {
  const line = /line (\d+)/.exec(error.message);
  if (line) return ` at line ${line[1]}`;
  const pos = /position (\d+)/.exec(error.message);
  if (pos) return ` at line ${text.slice(0, Number(pos[1])).split('\n').length}`;
  const yamlLine = parseDocument(text).errors[0]?.linePos?.[0]?.line;
  return yamlLine ? ` at line ${yamlLine}` : '';
}

export function parsePlanText(text: string, file: string): unknown {
  if (/\.ya?ml$/i.test(file)) {
    const doc = parseDocument(text);
    const error = doc.errors[0];
    if (error) {
      const line = error.linePos?.[0]?.line;
      throw new InputError(
        `not valid YAML${line ? ` at line ${line}` : ''}: ${error.message.split('\n')[0]}`,
        file,
      );
    }
    try {
      return doc.toJS() as unknown;
    } catch (toJsError) {
      // The yaml package refuses alias bombs (and similar) here, after parsing succeeded.
      throw new InputError(`not a usable YAML plan: ${(toJsError as Error).message}`, file);
    }
  }
  try {
    return JSON.parse(text) as unknown;
  } catch (error) {
    const e = error as Error;
    throw new InputError(`not valid JSON${jsonLine(text, e)}: ${e.message}`, file);
  }
}

/** Loads a plan file; validation of its content is `resolvePlan`'s job. */
export async function loadPlanFile(file: string): Promise<unknown> {
  let bytes: Buffer;
  try {
    bytes = await readAtMost(file, MAX_PLAN_FILE_BYTES + 1);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? 'unreadable';
    throw new InputError(`cannot read the plan file (${code})`, file);
  }
  if (bytes.length > MAX_PLAN_FILE_BYTES) {
    throw new InputError(
      `the plan file is larger than ${MAX_PLAN_FILE_BYTES / 1024 / 1024} MiB (${MAX_PLAN_FILE_BYTES} bytes)`,
      file,
    );
  }
  return parsePlanText(bytes.toString('utf8'), file);
}

/** Reads up to `limit` bytes: a file that is not a regular one (a pipe, /dev/zero) ends too. */
async function readAtMost(file: string, limit: number): Promise<Buffer> {
  const handle = await open(file, 'r');
  try {
    const { size } = await handle.stat();
    const buffer = Buffer.alloc(Math.min(limit, size > 0 ? size : 64 * 1024));
    const chunks: Buffer[] = [];
    let total = 0;
    for (;;) {
      const want = Math.min(buffer.length, limit - total);
      if (want <= 0) break;
      const { bytesRead } = await handle.read(buffer, 0, want, null);
      if (bytesRead === 0) break;
      chunks.push(Buffer.from(buffer.subarray(0, bytesRead)));
      total += bytesRead;
    }
    return Buffer.concat(chunks, total);
  } finally {
    await handle.close();
  }
}
