/**
 * Reads a plan file (JSON, or YAML for `.yaml`/`.yml`) into a plan object. Unreadable files,
 * files over their size cap (`planFileLimit`) and syntax errors are `InputError`s that name the file and, for
 * syntax errors, the line.
 */
import { open } from 'node:fs/promises';
import { parseDocument } from 'yaml';
import { InputError } from '../errors';

/**
 * The largest plan file read, checked before parsing. JSON.parse holds a few bytes of heap per
 * byte of input, and the largest plan allowed (`MAX_TASKS` tasks) fits well under 32 MiB of JSON.
 */
export const MAX_PLAN_FILE_BYTES = 32 * 1024 * 1024;
/**
 * YAML's parser keeps a node tree of about 170 bytes of heap per byte of small nodes: a 4 MiB
 * YAML plan of one-line tasks peaks near 700 MB, a 32 MiB one exhausted a 4 GB heap (as a 100 MB
 * one did when tried). Larger plans belong in JSON.
 */
export const MAX_YAML_PLAN_FILE_BYTES = 4 * 1024 * 1024;

const isYaml = (file: string) => /\.ya?ml$/i.test(file);

/** The size cap for a plan file of this name. */
export function planFileLimit(file: string): number {
  return isYaml(file) ? MAX_YAML_PLAN_FILE_BYTES : MAX_PLAN_FILE_BYTES;
}

/** The line of a JSON syntax error: from V8's message when it has one, else from the YAML parser. */
function jsonLine(text: string, error: Error): string {
  const line = /line (\d+)/.exec(error.message);
  if (line) return ` at line ${line[1]}`;
  const pos = /position (\d+)/.exec(error.message);
  if (pos) return ` at line ${text.slice(0, Number(pos[1])).split('\n').length}`;
  const yamlLine = parseDocument(text).errors[0]?.linePos?.[0]?.line;
  return yamlLine ? ` at line ${yamlLine}` : '';
}

/** Parses a plan as JSON or YAML: by `format`, else by the name's extension (`.yaml`, `.yml`). */
export function parsePlanText(
  text: string,
  file: string,
  format: 'json' | 'yaml' = isYaml(file) ? 'yaml' : 'json',
): unknown {
  if (format === 'yaml') {
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
  const limit = planFileLimit(file);
  let bytes: Buffer;
  try {
    bytes = await readAtMost(file, limit + 1);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? 'unreadable';
    throw new InputError(`cannot read the plan file (${code})`, file);
  }
  if (bytes.length > limit) {
    const kind = isYaml(file) ? 'YAML plan file' : 'plan file';
    throw new InputError(
      `the ${kind} is larger than ${limit / 1024 / 1024} MiB (${limit} bytes)` +
        (isYaml(file) ? '; write a plan this large as JSON (up to 32 MiB)' : ''),
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
