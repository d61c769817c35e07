/**
 * Who is asking. With `AGENTQ_TOKEN` set every route wants `Authorization: Bearer <token>` or the
 * session cookie the login form sets (a session kept in Redis: see sessions.ts);
 * `AGENTQ_READONLY_TOKEN` may read (GET/HEAD) but any mutation is refused with 403 here, on the
 * server, whatever the UI shows. Without a token everybody is `anonymous` with full rights (the
 * server then listens on loopback only and answers loopback Host names only: see host-guard.ts).
 */
import { timingSafeEqual } from 'node:crypto';
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import { sendError } from './routes/http-errors';
import type { SessionStore } from './sessions';

export type Role = 'admin' | 'readonly' | 'anonymous';

/** The caller of a request, set on `res.locals.caller` by `authenticate`. */
export interface Caller {
  role: Role;
  /** May this caller change anything? */
  canMutate: boolean;
}

export interface AuthOptions {
  /** Full access. `null`: no authentication at all. */
  token: string | null;
  /** Read-only access. Ignored when `token` is null. */
  readonlyToken: string | null;
  /** Where login sessions live. */
  sessions: SessionStore;
}

export const SESSION_COOKIE = 'agentq_session';
const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/** The caller of a request that went through `authenticate`. */
export function callerOf(res: Response): Caller {
  return (res.locals.caller as Caller | undefined) ?? { role: 'anonymous', canMutate: false };
}

/** The audit-log actor of a mutation: `api:admin`, `api:anonymous`, `board:admin`, … */
export function actorOf(res: Response, surface: 'api' | 'board' = 'api'): string {
  return `${surface}:${callerOf(res).role}`;
}

function safeEqual(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

/** The session cookie's value; a malformed one (a bad `%`-escape) counts as none. */
export function readSessionCookie(req: Request): string | null {
  for (const part of (req.headers.cookie ?? '').split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === SESSION_COOKIE) {
      try {
        return decodeURIComponent(part.slice(eq + 1).trim());
      } catch {
        return null;
      }
    }
  }
  return null;
}

/** Resolves a presented secret (bearer token or login form input) to a role. */
export function roleOfToken(options: AuthOptions, presented: string): Role | null {
  if (options.token && safeEqual(presented, options.token)) return 'admin';
  if (options.readonlyToken && safeEqual(presented, options.readonlyToken)) return 'readonly';
  return null;
}

async function roleOfRequest(options: AuthOptions, req: Request): Promise<Role | null> {
  const header = req.headers.authorization;
  if (header?.startsWith('Bearer ')) return roleOfToken(options, header.slice(7).trim());
  const cookie = readSessionCookie(req);
  return cookie ? options.sessions.roleOf(cookie) : null;
}

function wantsHtml(req: Request): boolean {
  return req.method === 'GET' && (req.headers.accept ?? '').includes('text/html');
}

/** Paths reachable without credentials: the login form and logging out. */
const PUBLIC_PATHS = new Set(['/login', '/logout']);

/** Sets `res.locals.caller`, or answers 401 (a browser is sent to the login form instead). */
export function authenticate(options: AuthOptions): RequestHandler {
  return async (req: Request, res: Response, next: NextFunction) => {
    if (!options.token) {
      res.locals.caller = { role: 'anonymous', canMutate: true } satisfies Caller;
      next();
      return;
    }
    const role = await roleOfRequest(options, req);
    if (role) {
      res.locals.caller = { role, canMutate: role === 'admin' } satisfies Caller;
      next();
      return;
    }
    if (PUBLIC_PATHS.has(req.path)) {
      next();
      return;
    }
    if (wantsHtml(req)) {
      res.redirect(302, `/login?next=${encodeURIComponent(req.originalUrl)}`);
      return;
    }
    res.setHeader('WWW-Authenticate', 'Bearer realm="agentq"');
    sendError(res, 401, 'unauthorized', 'a valid bearer token or login session is required');
  };
}

/** Refuses every mutation (anything but GET/HEAD/OPTIONS) to a caller that may only read. */
export function refuseReadonlyMutations(): RequestHandler {
  return (req, res, next) => {
    if (SAFE_METHODS.has(req.method) || PUBLIC_PATHS.has(req.path) || callerOf(res).canMutate) {
      next();
      return;
    }
    sendError(res, 403, 'forbidden', 'this token may read but not change anything');
  };
}
