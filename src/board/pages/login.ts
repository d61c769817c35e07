/**
 * `/login`: a small form for browsers. A valid token opens a session (kept in Redis, see
 * sessions.ts), sets it as an HttpOnly, SameSite=Strict cookie and redirects to `next`, which
 * must be a path of this server. `/logout` ends the session and clears the cookie.
 */
import express, { Router, type Response } from 'express';
import { readSessionCookie, roleOfToken, SESSION_COOKIE, type AuthOptions } from '../auth';
import { escapeHtml, page } from './layout';

const LOCAL = 'http://agentq.invalid';

/**
 * Only a path of this server: never an open redirect. Browsers read `\` as `/` and drop tabs and
 * newlines, so `/\evil.example` or `/\t/evil.example` would leave the site; anything that is not
 * a plain path resolving to this origin becomes `/`. The answer is the URL parser's own
 * normalized path, never the raw text.
 */
export function safeNext(raw: unknown): string {
  // eslint-disable-next-line no-control-regex -- control characters are what it refuses
  if (typeof raw !== 'string' || !/^\/(?![/\\])[^\\\x00-\x20\x7f]*$/.test(raw)) return '/';
  try {
    const url = new URL(raw, LOCAL);
    return url.origin === LOCAL ? `${url.pathname}${url.search}${url.hash}` : '/';
  } catch {
    return '/';
  }
}

function loginForm(res: Response, next: string, message: string | null, status = 200): void {
  const error = message ? `<p class="error">${escapeHtml(message)}</p>` : '';
  res
    .status(status)
    .type('html')
    .send(
      page(
        'Log in',
        `<form class="login" method="post" action="/login">${error}` +
          `<input type="hidden" name="next" value="${escapeHtml(next)}">` +
          `<label>Token <input type="password" name="token" autofocus required></label> ` +
          `<button type="submit">Log in</button></form>`,
        { nav: false },
      ),
    );
}

export function loginRouter(options: AuthOptions): Router {
  const router = Router();
  const form = express.urlencoded({ extended: false, limit: '16kb' });

  router.get('/login', (req, res) => {
    if (!options.token) {
      res.redirect(302, '/');
      return;
    }
    loginForm(res, safeNext(req.query.next), null);
  });

  router.post('/login', form, async (req, res) => {
    const body = (req.body ?? {}) as { token?: unknown; next?: unknown };
    const next = safeNext(body.next);
    const role = typeof body.token === 'string' ? roleOfToken(options, body.token) : null;
    if (!options.token || !role || role === 'anonymous') {
      loginForm(res, next, 'That token is not valid.', 401);
      return;
    }
    res.cookie(SESSION_COOKIE, await options.sessions.open(role), {
      httpOnly: true,
      sameSite: 'strict',
      secure: req.secure,
      path: '/',
    });
    res.redirect(303, next);
  });

  router.post('/logout', async (req, res) => {
    const cookie = readSessionCookie(req);
    if (cookie) await options.sessions.end(cookie);
    res.clearCookie(SESSION_COOKIE, { path: '/' });
    res.redirect(303, '/login');
  });

  return router;
}
