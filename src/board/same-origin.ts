/**
 * Cross-site request forgery guard. A browser attaches the session cookie (and, without a token,
 * reaches the open API at all) for any page that posts to us, and SameSite=Strict does not help
 * against a page on another port of the same host (same site). So every mutation that does not
 * carry its own `Authorization: Bearer` header must come from one of our own pages: `Sec-Fetch-Site`
 * (sent by current browsers) must be `same-origin` or `none`, and `Origin`, when sent, must be
 * this server's own (its host and port equal to `Host`). A request with neither header is not from
 * a browser's page (curl, a script) and passes. A bearer token cannot be attached by another site
 * (that needs a CORS preflight, which this server never grants), so such requests pass too.
 */
import type { Request, RequestHandler } from 'express';
import { sendError } from './routes/http-errors';

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);
const OWN_FETCH_SITES = new Set(['same-origin', 'none']);

/** Why `req` looks cross-site, or null when it is ours. */
export function crossSiteReason(req: Request): string | null {
  const site = req.headers['sec-fetch-site'];
  if (typeof site === 'string' && !OWN_FETCH_SITES.has(site)) {
    return `Sec-Fetch-Site is '${site}'`;
  }
  const origin = req.headers.origin;
  if (origin === undefined) return null;
  let host: string;
  try {
    host = new URL(origin).host;
  } catch {
    return `Origin '${origin}' is not this server`;
  }
  const own = (req.headers.host ?? '').toLowerCase();
  return host.toLowerCase() === own && own !== '' ? null : `Origin '${origin}' is not this server`;
}

export function refuseCrossSiteMutations(): RequestHandler {
  return (req, res, next) => {
    if (SAFE_METHODS.has(req.method) || req.headers.authorization?.startsWith('Bearer ')) {
      next();
      return;
    }
    const reason = crossSiteReason(req);
    if (!reason) {
      next();
      return;
    }
    sendError(
      res,
      403,
      'cross_site',
      `${reason}: a change without an Authorization header must come from this server's own pages`,
      'Origin',
    );
  };
}
