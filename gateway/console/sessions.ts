/**
 * Console sign-in and sessions. `plantgate console-url` makes a one-time address from the local token
 * (only the gateway's account and root can read it): a nonce and an expiry signed with the token. The
 * gateway checks the signature, the expiry and that the nonce was never used, then starts a session:
 * a random id in an HttpOnly, SameSite=Strict cookie, a CSRF token for every change, an inactivity
 * timeout and an absolute lifetime. Sessions live in memory only; a restart signs everyone out.
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

export const SESSION_COOKIE = 'pg_console';
const LINK_LIFETIME_MS = 5 * 60_000;
const SESSION_LIFETIME_MS = 12 * 3_600_000;
const MAX_SESSIONS = 100;

const signature = (token: string, nonce: string, expires: number) =>
  createHmac('sha256', token).update(`plantgate-console-sign-in\n${nonce}\n${expires}`).digest('base64url');

/** The one-time sign-in address for a console on `origin`, signed with the local token. */
export function signInUrl(origin: string, token: string, now = Date.now()): string {
  const nonce = randomBytes(18).toString('base64url');
  const expires = now + LINK_LIFETIME_MS;
  const params = new URLSearchParams({ n: nonce, e: String(expires), s: signature(token, nonce, expires) });
  return `${origin}/console/sign-in?${params}`;
}

export interface ConsoleSession {
  id: string;
  csrf: string;
  createdAt: number;
  lastUsed: number;
}

export class ConsoleSessions {
  private readonly sessions = new Map<string, ConsoleSession>();
  private readonly usedNonces = new Map<string, number>();
  private readonly idleMs: number;

  constructor(idleMinutes: number) {
    this.idleMs = idleMinutes * 60_000;
  }

  /** A session for a valid, unexpired, unused sign-in address; else undefined. */
  signIn(
    token: string,
    query: { n?: string; e?: string; s?: string },
    now = Date.now(),
  ): ConsoleSession | undefined {
    const { n, e, s } = query;
    if (!n || !e || !s || !/^[A-Za-z0-9_-]{16,64}$/.test(n) || !/^\d{1,16}$/.test(e)) return undefined;
    const expires = Number(e);
    if (expires < now || expires > now + LINK_LIFETIME_MS) return undefined;
    const expected = Buffer.from(signature(token, n, expires));
    const given = Buffer.from(s);
    if (expected.length !== given.length || !timingSafeEqual(expected, given)) return undefined;
    for (const [nonce, until] of this.usedNonces) if (until < now) this.usedNonces.delete(nonce);
    if (this.usedNonces.has(n)) return undefined;
    this.usedNonces.set(n, expires);
    this.sweep(now);
    if (this.sessions.size >= MAX_SESSIONS) {
      const oldest = [...this.sessions.values()].sort((a, b) => a.lastUsed - b.lastUsed)[0]!;
      this.sessions.delete(oldest.id);
    }
    const session: ConsoleSession = {
      id: randomBytes(32).toString('base64url'),
      csrf: randomBytes(32).toString('base64url'),
      createdAt: now,
      lastUsed: now,
    };
    this.sessions.set(session.id, session);
    return session;
  }

  /** The live session with this id, its inactivity clock restarted; else undefined. */
  use(id: string | undefined, now = Date.now()): ConsoleSession | undefined {
    if (!id) return undefined;
    const session = this.sessions.get(id);
    if (!session) return undefined;
    if (now - session.lastUsed > this.idleMs || now - session.createdAt > SESSION_LIFETIME_MS) {
      this.sessions.delete(id);
      return undefined;
    }
    session.lastUsed = now;
    return session;
  }

  end(id: string): void {
    this.sessions.delete(id);
  }

  private sweep(now: number): void {
    for (const s of this.sessions.values())
      if (now - s.lastUsed > this.idleMs || now - s.createdAt > SESSION_LIFETIME_MS)
        this.sessions.delete(s.id);
  }
}
