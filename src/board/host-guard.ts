/**
 * DNS rebinding guard. Without `AGENTQ_TOKEN` the server trusts whoever reaches it, which is only
 * safe while only this machine can: a web page whose name is re-pointed at 127.0.0.1 reaches it
 * too, as a same-origin caller, but with its own name in `Host`. So without a token only loopback
 * names are answered (`localhost`, `127.x.x.x`, `[::1]`, with any port); anything else is 403.
 * With a token the token is the guard and any Host is served (a reverse proxy's name, say).
 */
import type { RequestHandler } from 'express';
import { sendError } from './routes/http-errors';
import { isLoopbackHost } from './server';

/** The host name of a `Host` header, without the port (`[::1]:3000` → `::1`). */
export function hostNameOf(header: string): string {
  const bracket = /^\[([^\]]*)\](?::\d*)?$/.exec(header);
  if (bracket) return bracket[1]!;
  const colon = header.lastIndexOf(':');
  return colon >= 0 && header.indexOf(':') === colon ? header.slice(0, colon) : header;
}

export function refuseForeignHosts(options: { token: string | null }): RequestHandler {
  return (req, res, next) => {
    if (options.token) {
      next();
      return;
    }
    const host = req.headers.host ?? '';
    if (host && isLoopbackHost(hostNameOf(host))) {
      next();
      return;
    }
    sendError(
      res,
      403,
      'forbidden_host',
      `Host '${host}' is not a loopback name: without AGENTQ_TOKEN this server answers only ` +
        'localhost, 127.0.0.1 and [::1] (set a token to serve other names)',
      'Host',
    );
  };
}
