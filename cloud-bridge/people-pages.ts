/**
 * The bridge's own pages for people (HTML, no script, no external asset): sign-in and sign-out, and
 * "My apps", where a person sees each consent they gave (app, gateway, source, offline access) and
 * revokes any of them at once. Every change is a form post carrying the session's CSRF token and
 * coming from this origin; every page is sent with a strict CSP, `frame-ancestors 'none'` and no caching.
 * Each request is audited by the bridge's request hook, with what the note below says.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { gatewayError, sameSecret } from '../gateway/api/index.ts';
import type { BridgeConfig, IssuerConfig } from './config.ts';
import { escapeHtml } from './html.ts';
import { note } from './request-context.ts';
import { type Session, type Sessions, type SignIn, safeReturn } from './sign-in.ts';
import type { BridgeStore } from './store.ts';

export const SESSION_COOKIE = '__Host-pg_session';
const SIGN_IN_COOKIE = '__Host-pg_signin';

export interface PeoplePagesDeps {
  config: BridgeConfig;
  issuers: readonly IssuerConfig[];
  /** Where sign-in goes when no organisation is named (the development provider, when it runs). */
  defaultIssuer?: IssuerConfig;
  signIn: SignIn;
  sessions: Sessions;
  store: BridgeStore;
}

const PAGE_HEADERS = {
  'content-type': 'text/html; charset=utf-8',
  'content-security-policy':
    "default-src 'none'; style-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
  'cache-control': 'no-store',
  'x-content-type-options': 'nosniff',
  // same-origin, not no-referrer: with no-referrer a browser sends `Origin: null` on its own form posts.
  'referrer-policy': 'same-origin',
};

/** The pages' one stylesheet, served by the bridge itself (no external asset). */
const STYLESHEET = `body{font:15px/1.45 system-ui,sans-serif;margin:0;color:#1b1f24;background:#f6f7f9}
header{display:flex;gap:1rem;align-items:center;justify-content:flex-end;padding:.5rem 1.5rem;background:#1f3b57;color:#fff}
header p,header form{margin:0}main{max-width:72rem;margin:0 auto;padding:1rem 1.5rem}
table{border-collapse:collapse;width:100%;background:#fff;margin:.5rem 0 1.5rem}th,td{text-align:left;padding:.4rem .6rem;border-bottom:1px solid #dde1e6;vertical-align:top}
th{background:#eef1f4}button{font:inherit;padding:.3rem .8rem;cursor:pointer}input,textarea{font:inherit;padding:.25rem}
[role=alert]{color:#8a1c1c;font-weight:600}[role=status],[role=note]{background:#fff7d6;padding:.5rem .75rem}
:focus-visible{outline:3px solid #1a73e8;outline-offset:2px}`;

function cookieOf(request: FastifyRequest, name: string): string | undefined {
  for (const part of (request.headers.cookie ?? '').split(';')) {
    const [key, ...value] = part.trim().split('=');
    if (key === name) return value.join('=');
  }
  return undefined;
}

const cookie = (name: string, value: string, maxAgeSeconds: number) =>
  `${name}=${value}; Path=/; Secure; HttpOnly; SameSite=Lax; Max-Age=${maxAgeSeconds}`;

/**
 * A page. `formTargets`: other origins its forms may end up at (a form's redirect counts under CSP
 * form-action), e.g. the app the consent prompt answers.
 */
export function page(
  reply: FastifyReply,
  title: string,
  body: string,
  session?: Session,
  status = 200,
  formTargets: string[] = [],
) {
  const who = session
    ? `<p>Signed in as ${escapeHtml(session.identity.subject)} (${escapeHtml(session.identity.organisation)})</p>
<form method="post" action="/signout"><input type="hidden" name="csrf" value="${session.csrf}"><button type="submit">Sign out</button></form>`
    : '';
  const headers = formTargets.length
    ? {
        ...PAGE_HEADERS,
        'content-security-policy': PAGE_HEADERS['content-security-policy'].replace(
          "form-action 'self'",
          `form-action 'self' ${formTargets.join(' ')}`,
        ),
      }
    : PAGE_HEADERS;
  return reply
    .code(status)
    .headers(headers)
    .send(
      `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>${escapeHtml(title)} — plantgate bridge</title><link rel="stylesheet" href="/assets/bridge.css"></head>
<body><header>${who}</header><main><h1>${escapeHtml(title)}</h1>
${body}</main></body></html>`,
    );
}

/** A refusal or failure on a page, as a page. */
export function errorPage(reply: FastifyReply, status: number, message: string) {
  return page(
    reply,
    status >= 500 ? 'Something failed' : 'Not allowed',
    `<p role="alert">${escapeHtml(message)}</p>`,
    undefined,
    status,
  );
}

/** The signed-in session, or undefined. */
export function sessionOf(request: FastifyRequest, sessions: Sessions): Session | undefined {
  return sessions.get(cookieOf(request, SESSION_COOKIE));
}

/** A form post: signed in, from this origin, with the session's CSRF token — else refused. */
export function checkedPost(request: FastifyRequest, sessions: Sessions): Session {
  const session = sessionOf(request, sessions);
  if (!session) throw gatewayError('PG_ERR_UNAUTHENTICATED', 'sign in first');
  const origin = request.headers.origin;
  const site = request.headers['sec-fetch-site'];
  if (
    (origin !== undefined && origin !== `https://${request.headers.host}`) ||
    (site !== undefined && site !== 'same-origin' && site !== 'none')
  )
    throw gatewayError(
      'PG_ERR_FORBIDDEN',
      `a form from ${origin ?? `a ${site} page`} may not change anything here`,
    );
  const csrf = (request.body as Record<string, unknown> | undefined)?.csrf;
  if (typeof csrf !== 'string' || !sameSecret(csrf, session.csrf))
    throw gatewayError('PG_ERR_FORBIDDEN', 'the form has no valid CSRF token; reload the page');
  return session;
}

function issuerFor(deps: PeoplePagesDeps, organisation: unknown): IssuerConfig {
  if (organisation === undefined && deps.defaultIssuer) return deps.defaultIssuer;
  const choices = deps.issuers.filter((i) => organisation === undefined || i.organisation === organisation);
  if (choices.length !== 1)
    throw gatewayError(
      'PG_ERR_BAD_REQUEST',
      `name the organisation to sign in to (?organisation=): one of ${deps.issuers.map((i) => i.organisation).join(', ')}`,
    );
  return choices[0] as IssuerConfig;
}

function myAppsBody(session: Session, consents: Awaited<ReturnType<BridgeStore['listConsents']>>): string {
  if (!consents.length) return '<p>You have not let any app use plant data.</p>';
  const rows = consents
    .map(
      (
        c,
      ) => `<tr><td>${escapeHtml(c.app)}</td><td>${escapeHtml(c.gatewayId)}</td><td>${escapeHtml(c.sourceId)}</td>
<td>${c.offlineAccess ? '<strong>Offline access</strong>: the app may keep using this without you signed in' : 'Only while you are signed in'}</td>
<td>${escapeHtml(c.createdAt)}</td>
<td><form method="post" action="/my-apps/revoke"><input type="hidden" name="csrf" value="${session.csrf}"><input type="hidden" name="id" value="${escapeHtml(c.id)}">
<button type="submit" aria-label="Revoke ${escapeHtml(c.app)} on ${escapeHtml(c.gatewayId)} / ${escapeHtml(c.sourceId)}">Revoke</button></form></td></tr>`,
    )
    .join('\n');
  return `<p>Apps you let use plant data. Revoking stops the app at once.</p>
<table><thead><tr><th scope="col">App</th><th scope="col">Gateway</th><th scope="col">Source</th><th scope="col">Access</th><th scope="col">Given</th><th scope="col"></th></tr></thead>
<tbody>${rows}</tbody></table>`;
}

export function registerPeoplePages(app: FastifyInstance, deps: PeoplePagesDeps): void {
  const { sessions, signIn, store } = deps;
  app.addContentTypeParser(
    'application/x-www-form-urlencoded',
    { parseAs: 'string', bodyLimit: 16 * 1024 },
    (_request, body, done) => done(null, Object.fromEntries(new URLSearchParams(body as string))),
  );

  app.get<{ Querystring: { organisation?: string; return?: string } }>('/signin', async (request, reply) => {
    const issuer = issuerFor(deps, request.query.organisation);
    note(request, { organisation: issuer.organisation });
    const redirectUri = `https://${request.headers.host}/signin/callback`;
    const { url, state } = await signIn.start(issuer, redirectUri, safeReturn(request.query.return));
    // The state also rides in a cookie, so a sign-in completes only in the browser that began it.
    return reply.header('set-cookie', cookie(SIGN_IN_COOKIE, state, 600)).redirect(url.href, 303);
  });

  app.get<{ Querystring: { state?: string } }>('/signin/callback', async (request, reply) => {
    const state = request.query.state ?? '';
    const started = cookieOf(request, SIGN_IN_COOKIE);
    if (!started || !sameSecret(started, state))
      throw gatewayError(
        'PG_ERR_UNAUTHENTICATED',
        'this sign-in was not begun in this browser; sign in again',
      );
    const query = request.url.includes('?') ? request.url.slice(request.url.indexOf('?')) : '';
    const { identity, returnTo } = await signIn.finish(query, state);
    const session = sessions.create(identity);
    note(request, { organisation: identity.organisation, subject: identity.subject, app: identity.app });
    return reply
      .header('set-cookie', [
        cookie(SESSION_COOKIE, session.id, Math.round(deps.config.auth.session.lifetimeHours * 3600)),
        cookie(SIGN_IN_COOKIE, '', 0),
      ])
      .redirect(returnTo, 303);
  });

  app.post('/signout', async (request, reply) => {
    const session = checkedPost(request, sessions);
    note(request, { organisation: session.identity.organisation, subject: session.identity.subject });
    sessions.end(session.id);
    return reply.header('set-cookie', cookie(SESSION_COOKIE, '', 0)).redirect('/signed-out', 303);
  });

  app.get('/assets/bridge.css', async (_request, reply) =>
    reply
      .headers({
        'content-type': 'text/css; charset=utf-8',
        'cache-control': 'public, max-age=3600',
        'x-content-type-options': 'nosniff',
      })
      .send(STYLESHEET),
  );

  app.get('/signed-out', async (_request, reply) =>
    page(reply, 'Signed out', '<p>You are signed out. <a href="/my-apps">Sign in again</a></p>'),
  );

  app.get('/my-apps', async (request, reply) => {
    const session = sessionOf(request, sessions);
    if (!session) return reply.redirect(`/signin?return=${encodeURIComponent('/my-apps')}`, 303);
    note(request, { organisation: session.identity.organisation, subject: session.identity.subject });
    const consents = await store.listConsents(session.identity.subject);
    return page(reply, 'My apps', myAppsBody(session, consents), session);
  });

  app.post('/my-apps/revoke', async (request, reply) => {
    const session = checkedPost(request, sessions);
    const id = (request.body as Record<string, unknown>).id;
    const { subject, organisation } = session.identity;
    const consent = (await store.listConsents(subject)).find((c) => c.id === id);
    if (!consent || !(await store.revokeConsent(consent.id, subject)))
      throw gatewayError('PG_ERR_NOT_FOUND', 'no such consent of yours');
    note(request, {
      organisation,
      subject,
      app: consent.app,
      gatewayId: consent.gatewayId,
      sourceId: consent.sourceId,
      detail: `consent ${consent.id} revoked (app ${consent.app}, ${consent.gatewayId}/${consent.sourceId}${consent.offlineAccess ? ', offline access' : ''})`,
    });
    return reply.redirect('/my-apps', 303);
  });
}
