/**
 * The consent prompt: an app sends a person to
 * `/consent?app=…&gateway=…&sources=a,b&return=…`. The person, signed in, sees which app (name,
 * publisher, client id) asks to use which sources of which gateway, whether it keeps working while they
 * are not signed in (offline access), and allows or denies. The return address must be one of the app's
 * registered redirect addresses exactly, so the prompt never sends anyone to another site; the answer
 * goes back to it as `?consent=granted` or `?error=access_denied`.
 */
import { randomUUID } from 'node:crypto';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { gatewayError, isLinkId } from '../gateway/api/index.ts';
import type { CloudAccess } from './cloud-access.ts';
import { escapeHtml } from './html.ts';
import { checkedPost, page, sessionOf } from './people-pages.ts';
import { note } from './request-context.ts';
import type { Session, Sessions } from './sign-in.ts';
import type { AppRecord, BridgeStore, GatewayRecord } from './store.ts';

export interface ConsentPageDeps {
  access: CloudAccess;
  sessions: Sessions;
  store: BridgeStore;
}

interface Ask {
  app: AppRecord;
  gateway: GatewayRecord;
  sources: string[];
  returnTo: string;
}

/** Reads and checks what an app asks for, in the signed-in person's organisation. */
async function askOf(
  { store, access }: ConsentPageDeps,
  session: Session,
  fields: Record<string, unknown>,
): Promise<Ask> {
  const trustOf = (organisation: string) => access.trustOf(organisation);
  const text = (name: string) => (typeof fields[name] === 'string' ? (fields[name] as string) : '');
  const app = await store.getApp(text('app'));
  // Apps and gateways of other organisations do not exist for this person.
  if (!app || app.organisation !== session.identity.organisation)
    throw gatewayError('PG_ERR_NOT_FOUND', `no app "${text('app')}" is registered in your organisation`);
  const returnTo = text('return');
  if (!app.redirectUris.includes(returnTo))
    throw gatewayError(
      'PG_ERR_BAD_REQUEST',
      `the return address is not one of app "${app.clientId}"'s registered addresses`,
    );
  const gateway = await store.getGateway(text('gateway'));
  if (!gateway || gateway.organisation !== session.identity.organisation)
    throw gatewayError('PG_ERR_NOT_FOUND', `no gateway "${text('gateway')}" in your organisation`);
  if (app.offlineAccess && (await trustOf(app.organisation)).offlineAccess === 'refused')
    throw gatewayError(
      'PG_ERR_FORBIDDEN',
      `app "${app.clientId}" asks for offline access, which organisation "${app.organisation}" does not allow`,
    );
  const sources = [...new Set(text('sources').split(',').filter(Boolean))];
  if (!sources.length || sources.length > 50 || !sources.every(isLinkId))
    throw gatewayError('PG_ERR_BAD_REQUEST', 'sources must list 1 to 50 source ids, comma-separated');
  return { app, gateway, sources, returnTo };
}

function answerTo(returnTo: string, parameters: Record<string, string>): string {
  const url = new URL(returnTo);
  for (const [key, value] of Object.entries(parameters)) url.searchParams.set(key, value);
  return url.href;
}

function promptBody(session: Session, ask: Ask): string {
  const { app, gateway, sources, returnTo } = ask;
  const hidden = (name: string, value: string) =>
    `<input type="hidden" name="${name}" value="${escapeHtml(value)}">`;
  return `<p><strong>${escapeHtml(app.name)}</strong> by ${escapeHtml(app.publisher)} (client id ${escapeHtml(app.clientId)})
asks to use plant data on your behalf from gateway <strong>${escapeHtml(gateway.name)}</strong>:</p>
<ul>${sources.map((s) => `<li>source <strong>${escapeHtml(s)}</strong></li>`).join('')}</ul>
${
  app.offlineAccess
    ? `<p role="note"><strong>Offline access.</strong> This app keeps using these sources for you when you are not signed in,
until you revoke it on <a href="/my-apps">My apps</a>.</p>`
    : '<p>It can use them only while you are signed in.</p>'
}
<p>The gateway's own rules still decide what you may read or change. You can revoke this at any time on <a href="/my-apps">My apps</a>.</p>
<form method="post" action="/consent">${hidden('csrf', session.csrf)}${hidden('app', app.clientId)}${hidden('gateway', gateway.id)}${hidden('sources', sources.join(','))}${hidden('return', returnTo)}
<button type="submit" name="decision" value="allow">Allow</button>
<button type="submit" name="decision" value="deny">Deny</button></form>`;
}

export function registerConsentPage(app: FastifyInstance, deps: ConsentPageDeps): void {
  const { sessions, store } = deps;

  app.get('/consent', async (request: FastifyRequest<{ Querystring: Record<string, string> }>, reply) => {
    const session = sessionOf(request, sessions);
    if (!session) return reply.redirect(`/signin?return=${encodeURIComponent(request.url)}`, 303);
    const ask = await askOf(deps, session, request.query);
    // The answer is a redirect to the app, which CSP form-action must allow.
    return page(reply, `Allow ${ask.app.name}?`, promptBody(session, ask), session, 200, [
      new URL(ask.returnTo).origin,
    ]);
  });

  app.post('/consent', async (request, reply) => {
    const session = checkedPost(request, sessions);
    const form = request.body as Record<string, unknown>;
    const ask = await askOf(deps, session, form);
    const { subject, organisation } = session.identity;
    const audited = { organisation, subject, app: ask.app.clientId, gatewayId: ask.gateway.id };
    if (form.decision !== 'allow') {
      note(request, { ...audited, detail: `consent denied for ${ask.sources.join(', ')}` });
      return reply.redirect(answerTo(ask.returnTo, { error: 'access_denied' }), 303);
    }
    const createdAt = new Date().toISOString();
    for (const sourceId of ask.sources)
      await store.addConsent({
        id: randomUUID(),
        organisation,
        subject,
        app: ask.app.clientId,
        gatewayId: ask.gateway.id,
        sourceId,
        offlineAccess: ask.app.offlineAccess,
        createdAt,
      });
    note(request, {
      ...audited,
      detail: `consent given for ${ask.sources.join(', ')}${ask.app.offlineAccess ? ' (offline access)' : ''}`,
    });
    return reply.redirect(answerTo(ask.returnTo, { consent: 'granted' }), 303);
  });
}
