/**
 * Login sessions, kept in Redis so they can end. The cookie holds `<role>.<random id>`; Redis
 * holds, under a hash of the id, the role and a fingerprint of the token it was opened with, for
 * `SESSION_TTL_MS`. `POST /logout` deletes the entry, so a copied cookie stops working with it;
 * rotating a token ends its sessions too (the fingerprint no longer matches).
 */
import { createHash, createHmac, randomBytes } from 'node:crypto';
import type { RedisCoordinator } from '../queues/redis-coordinator';

export type SessionRole = 'admin' | 'readonly';

/** How long a session lasts after login. */
export const SESSION_TTL_MS = 7 * 24 * 3600 * 1000;

export interface SessionStore {
  /** Opens a session for `role`; returns the cookie value. */
  open(role: SessionRole): Promise<string>;
  /** The role of a live session, or null (unknown, ended, expired, or its token rotated). */
  roleOf(cookie: string): Promise<SessionRole | null>;
  /** Ends the session (nothing when it is unknown). */
  end(cookie: string): Promise<void>;
}

export interface SessionSecrets {
  token: string | null;
  readonlyToken: string | null;
}

const COOKIE = /^(admin|readonly)\.([0-9a-f]{64})$/;

function fingerprint(secret: string | null): string | null {
  return secret ? createHmac('sha256', secret).update('agentq-session').digest('hex') : null;
}

export function redisSessions(
  coordinator: RedisCoordinator,
  secrets: SessionSecrets,
): SessionStore {
  const keyOf = (id: string) =>
    coordinator.key('session', createHash('sha256').update(id).digest('hex'));
  const secretOf = (role: SessionRole) =>
    role === 'admin' ? secrets.token : secrets.readonlyToken;

  return {
    async open(role) {
      const id = randomBytes(32).toString('hex');
      const value = `${role}:${fingerprint(secretOf(role))}`;
      await coordinator.client.set(keyOf(id), value, 'PX', SESSION_TTL_MS);
      return `${role}.${id}`;
    },
    async roleOf(cookie) {
      const match = COOKIE.exec(cookie);
      if (!match) return null;
      const role = match[1] as SessionRole;
      const expected = fingerprint(secretOf(role));
      const stored = await coordinator.client.get(keyOf(match[2]!));
      return expected && stored === `${role}:${expected}` ? role : null;
    },
    async end(cookie) {
      const match = COOKIE.exec(cookie);
      if (match) await coordinator.client.del(keyOf(match[2]!));
    },
  };
}
