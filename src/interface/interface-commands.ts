/**
 * The little command language of `InterfaceAgent.routeCommand`: a line in, a typed command out.
 * Arguments may be quoted ("two words" or 'two words'); options are `name=value`.
 */
import { InputError } from '../errors';

export type InterfaceCommand =
  | { name: 'status' }
  | { name: 'agents' }
  | { name: 'pending' }
  | { name: 'help' }
  | { name: 'show' | 'cancel' | 'retry'; id: string }
  | { name: 'approve'; id: string; note?: string }
  | { name: 'reject'; id: string; reason?: string }
  | {
      name: 'create';
      title: string;
      type: string;
      priority?: number;
      description?: string;
    }
  | { name: 'unknown'; word: string };

export const INTERFACE_HELP = [
  'Commands:',
  '  status                                   counts, capabilities, agents, stuck tasks, failures',
  '  show <id>                                one task: state, attempts, result or error',
  '  cancel <id>                              cancel a task (and its dependents)',
  '  retry <id>                               run a FAILED task again (attempts reset)',
  '  approve <id> [note="…"]                  approve a task awaiting approval',
  '  reject <id> [reason="…"]                 reject a task awaiting approval',
  '  create "<title>" type=<cap> priority=<n> [description="…"]   a one-task goal',
  '  agents                                   live agents and what they run',
  '  pending                                  tasks waiting in their queues',
  '  help                                     this text',
].join('\n');

/** Splits a line into words, honouring single and double quotes. */
export function tokenize(line: string): string[] {
  const words: string[] = [];
  const pattern = /(?:[^\s"']+|"[^"]*"|'[^']*')+/g;
  for (const match of line.matchAll(pattern))
    words.push(match[0].replace(/"([^"]*)"|'([^']*)'/g, '$1$2'));
  return words;
}

export function parseInterfaceCommand(line: string): InterfaceCommand {
  const [word = 'help', ...args] = tokenize(line.trim());
  const name = word.toLowerCase();
  switch (name) {
    case 'status':
    case 'agents':
    case 'pending':
    case 'help':
      return { name };
    case 'show':
    case 'cancel':
    case 'retry': {
      const id = args[0];
      if (!id) throw new InputError(`'${name}' needs a task id: ${name} <id>`, 'id');
      return { name, id };
    }
    case 'approve':
    case 'reject':
      return parseDecision(name, args);
    case 'create':
      return parseCreate(args);
    default:
      return { name: 'unknown', word };
  }
}

function parseDecision(name: 'approve' | 'reject', args: string[]): InterfaceCommand {
  const option = name === 'approve' ? 'note' : 'reason';
  const id = args[0];
  if (!id || id.includes('=')) {
    throw new InputError(`'${name}' needs a task id: ${name} <id> [${option}="…"]`, 'id');
  }
  let text: string | undefined;
  for (const arg of args.slice(1)) {
    const eq = arg.indexOf('=');
    if (eq > 0 && arg.slice(0, eq).toLowerCase() === option) text = arg.slice(eq + 1);
    else throw new InputError(`unexpected '${arg}': ${name} <id> [${option}="…"]`, option);
  }
  if (name === 'approve') return { name, id, ...(text !== undefined ? { note: text } : {}) };
  return { name, id, ...(text !== undefined ? { reason: text } : {}) };
}

function parseCreate(args: string[]): InterfaceCommand {
  const options = new Map<string, string>();
  const words: string[] = [];
  for (const arg of args) {
    const eq = arg.indexOf('=');
    if (eq > 0) options.set(arg.slice(0, eq).toLowerCase(), arg.slice(eq + 1));
    else words.push(arg);
  }
  const title = words.join(' ');
  if (!title) throw new InputError('create needs a title: create "<title>" type=<cap>', 'title');
  const type = options.get('type');
  if (!type) throw new InputError('create needs type=<capability>', 'type');
  const raw = options.get('priority');
  const priority = raw === undefined ? undefined : Number(raw);
  if (priority !== undefined && !(Number.isInteger(priority) && priority >= 1 && priority <= 10)) {
    throw new InputError(`'${raw}' must be a whole number from 1 to 10`, 'priority');
  }
  const description = options.get('description');
  return {
    name: 'create',
    title,
    type,
    ...(priority !== undefined ? { priority } : {}),
    ...(description !== undefined ? { description } : {}),
  };
}
