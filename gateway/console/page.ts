/**
 * The console's page frame: one layout with the navigation, a strict CSP (only this server's own
 * stylesheet and script, nothing from elsewhere), no caching, and the checks every change passes:
 * a live session, a same-origin request and the session's CSRF token.
 */
import { randomUUID } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { LOCAL_CONSOLE } from '../access/policy.ts';
import type { CallContext } from '../api/call-context.ts';
import { sameSecret } from '../api/same-secret.ts';
import type { AuditEvent } from '../audit/record.ts';
import { gatewayError } from '../errors.ts';
import { type ConsoleSession, type ConsoleSessions, SESSION_COOKIE } from './sessions.ts';

export const escapeHtml = (text: string) => text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

const HEADERS = {
  'content-type': 'text/html; charset=utf-8',
  'content-security-policy':
    "default-src 'none'; style-src 'self'; script-src 'self'; connect-src 'self'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
  'cache-control': 'no-store',
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'same-origin',
  'x-frame-options': 'DENY',
};

const NAV: [string, string][] = [
  ['/console', 'Overview'],
  ['/console/sources', 'Data sources'],
  ['/console/tags', 'Tags'],
  ['/console/access', 'Access rules'],
  ['/console/script-tags', 'Script tags'],
  ['/console/enrollment', 'Enrollment'],
  ['/console/certificates', 'Certificates'],
  ['/console/audit', 'Audit'],
];

export const STYLESHEET = `body{font:15px/1.45 system-ui,sans-serif;margin:0;color:#1b1f24;background:#f6f7f9}
header{display:flex;gap:1.5rem;align-items:center;padding:.5rem 1.5rem;background:#23384d;color:#fff}
header a{color:#fff}header nav{display:flex;gap:1rem;flex:1}header form{margin:0}
main{max-width:80rem;margin:0 auto;padding:1rem 1.5rem}
table{border-collapse:collapse;width:100%;background:#fff;margin:.5rem 0 1.5rem}th,td{text-align:left;padding:.35rem .6rem;border-bottom:1px solid #dde1e6;vertical-align:top}
th{background:#eef1f4}button{font:inherit;padding:.3rem .8rem;cursor:pointer}input,select,textarea{font:inherit;padding:.25rem}
label{display:inline-block;margin:0 1rem .5rem 0}.state-running{color:#17632a}.state-degraded,.state-starting{color:#8a5a00}.state-failed,.state-stopped{color:#8a1c1c}
[role=alert]{color:#8a1c1c;font-weight:600}[role=status]{background:#fff7d6;padding:.5rem .75rem}
dl{display:grid;grid-template-columns:max-content 1fr;gap:.25rem 1rem}dt{font-weight:600}dd{margin:0}
:focus-visible{outline:3px solid #1a73e8;outline-offset:2px}`;

export function cookieOf(request: FastifyRequest, name: string): string | undefined {
  for (const part of (request.headers.cookie ?? '').split(';')) {
    const [key, ...value] = part.trim().split('=');
    if (key === name) return value.join('=');
  }
  return undefined;
}

export const sessionCookie = (id: string, maxAgeSeconds: number) =>
  `${SESSION_COOKIE}=${id}; Path=/console; HttpOnly; SameSite=Strict; Max-Age=${maxAgeSeconds}`;

export function page(
  reply: FastifyReply,
  title: string,
  body: string,
  session?: ConsoleSession,
  status = 200,
) {
  const nav = session
    ? `<nav aria-label="Console">${NAV.map(([href, label]) => `<a href="${href}">${label}</a>`).join('')}</nav>
<form method="post" action="/console/sign-out"><input type="hidden" name="csrf" value="${session.csrf}"><button type="submit">Sign out</button></form>`
    : '<nav aria-label="Console"></nav>';
  return reply
    .code(status)
    .headers(HEADERS)
    .send(
      `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>${escapeHtml(title)} — plantgate console</title><link rel="stylesheet" href="/console/assets/console.css"></head>
<body><header><strong>plantgate</strong>${nav}</header><main><h1>${escapeHtml(title)}</h1>
${body}</main></body></html>`,
    );
}

export const errorPage = (reply: FastifyReply, status: number, message: string, session?: ConsoleSession) =>
  page(
    reply,
    status >= 500 ? 'Something failed' : 'Not allowed',
    `<p role="alert">${escapeHtml(message)}</p>`,
    session,
    status,
  );

/** The caller of the typed operations the console runs: the machine's local administrator, as the console. */
export const consoleCaller = (): CallContext => ({
  requestId: randomUUID(),
  origin: 'local',
  principal: { subject: LOCAL_CONSOLE, groups: [] },
  app: 'console',
});

/** An audit record of a console action. */
export const consoleAuditEvent = (detail: string, outcome = 'ok'): AuditEvent => ({
  kind: 'admin',
  origin: 'local',
  principal: LOCAL_CONSOLE,
  app: 'console',
  outcome,
  detail,
});

/** The signed-in session of a page request, or undefined. */
export const sessionOf = (request: FastifyRequest, sessions: ConsoleSessions) =>
  sessions.use(cookieOf(request, SESSION_COOKIE));

/** The signed-in session of a page request; refused when there is none. */
export function requireSession(request: FastifyRequest, sessions: ConsoleSessions): ConsoleSession {
  const session = sessionOf(request, sessions);
  if (!session)
    throw gatewayError(
      'PG_ERR_UNAUTHENTICATED',
      'sign in first: plantgate console-url prints a one-time sign-in address',
    );
  return session;
}

/** A change: signed in, from this origin, with the session's CSRF token; else refused. */
export function checkedPost(request: FastifyRequest, sessions: ConsoleSessions): ConsoleSession {
  const session = sessionOf(request, sessions);
  if (!session)
    throw gatewayError(
      'PG_ERR_UNAUTHENTICATED',
      'sign in first: plantgate console-url prints a sign-in address',
    );
  const origin = request.headers.origin;
  const site = request.headers['sec-fetch-site'];
  if (
    (origin !== undefined && origin !== `http://${request.headers.host}`) ||
    (site !== undefined && site !== 'same-origin' && site !== 'none')
  )
    throw gatewayError('PG_ERR_FORBIDDEN', 'a change must come from the console itself');
  const csrf = (request.body as Record<string, unknown> | undefined)?.csrf;
  if (typeof csrf !== 'string' || !sameSecret(csrf, session.csrf))
    throw gatewayError('PG_ERR_FORBIDDEN', 'the form is stale or not the console’s own; reload the page');
  return session;
}
