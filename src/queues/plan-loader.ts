/**
 * Reads a plan file (JSON, or YAML for `.yaml`/`.yml`) into a plan object. Unreadable files and
 * syntax errors are `InputError`s that name the file and, for syntax errors, the line.
 */
import { readFile } from 'node:fs/promises';
import { parseDocument } from 'yaml';
import { InputError } from '../errors';

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
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? 'unreadable';
    throw new InputError(`cannot read the plan file (${code})`, file);
  }
  return parsePlanText(text, file);
}
