/**
 * Listens with the app. Without `AGENTQ_TOKEN` the API would be open to anyone who can reach it,
 * so a non-loopback host is refused (an InputError naming AGENTQ_HOST). `close()` stops
 * accepting, lets requests in flight finish for a grace period, then cuts what is left.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Express } from 'express';
import { InputError } from '../errors';

export interface ServerOptions {
  app: Express;
  /** @defaultValue '127.0.0.1' */
  host?: string;
  /** 0 picks a free port. @defaultValue 3000 */
  port?: number;
  /** The admin token; `null` allows loopback hosts only. */
  token: string | null;
  /** Time in-flight requests get at close. @defaultValue 5000 */
  graceMs?: number;
}

export interface RunningServer {
  server: Server;
  host: string;
  port: number;
  url: string;
  close(): Promise<void>;
}

export function isLoopbackHost(host: string): boolean {
  const h = host.replace(/^\[|\]$/g, '').toLowerCase();
  return h === 'localhost' || h === '::1' || /^127(\.\d{1,3}){3}$/.test(h);
}

/**
 * Throws the InputError `startServer` would: a composition root calls it first, before it opens
 * the store or starts anything that would then have to be stopped again.
 */
export function assertBindAllowed(host: string, token: string | null): void {
  if (!token && !isLoopbackHost(host)) {
    throw new InputError(
      `refusing to listen on ${host} without AGENTQ_TOKEN: set a token, or use 127.0.0.1`,
      'AGENTQ_HOST',
    );
  }
}

export async function startServer(options: ServerOptions): Promise<RunningServer> {
  const host = options.host ?? '127.0.0.1';
  assertBindAllowed(host, options.token);
  const server = createServer(options.app);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 3000, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  const shownHost = host.includes(':') ? `[${host}]` : host;
  return {
    server,
    host,
    port,
    url: `http://${shownHost}:${port}`,
    async close() {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeIdleConnections();
      const grace = setTimeout(() => server.closeAllConnections(), options.graceMs ?? 5000);
      await closed;
      clearTimeout(grace);
    },
  };
}
