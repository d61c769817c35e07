/**
 * `/login`: a small form for browsers. A valid token sets an HttpOnly, SameSite=Strict session
 * cookie (an HMAC derived from the token, see auth.ts) and redirects to `next`. `/logout` clears it.
 */
import express, { Router, type Response } from 'express';
import { roleOfToken, SESSION_COOKIE, sessionValue, type AuthOptions } from '../auth';
import { escapeHtml, page } from './layout';

/** Only a local path: never an open redirect to another site. */
function safeNext(raw: unknown): string {
  return typeof raw === 'string' && raw.startsWith('/') && !raw.startsWith('//') ? raw : '/';
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

  router.post('/login', form, (req, res) => {
    const body = (req.body ?? {}) as { token?: unknown; next?: unknown };
    const next = safeNext(body.next);
    const role = typeof body.token === 'string' ? roleOfToken(options, body.token) : null;
    if (!options.token || !role || role === 'anonymous') {
      loginForm(res, next, 'That token is not valid.', 401);
      return;
    }
    const secret = role === 'admin' ? options.token : options.readonlyToken!;
    res.cookie(SESSION_COOKIE, sessionValue(role, secret), {
      httpOnly: true,
      sameSite: 'strict',
      secure: req.secure,
      path: '/',
    });
    res.redirect(303, next);
  });

  router.post('/logout', (_req, res) => {
    res.clearCookie(SESSION_COOKIE, { path: '/' });
    res.redirect(303, '/login');
  });

  return router;
}
