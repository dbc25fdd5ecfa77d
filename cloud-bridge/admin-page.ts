/**
 * The organisation admin's page: the organisation's gateways with their link state (delete one, which
 * closes its link at once), a one-time enrollment code for a new or re-enrolling gateway (shown once),
 * the registered apps with the organisation's decision on each (allow or refuse), and the latest entries
 * of the organisation's audit. Org admins of that organisation only; every change is audited.
 */
import type { FastifyInstance } from 'fastify';
import { gatewayError } from '../gateway/api/index.ts';
import { type AppAccessFilter, appAccess } from './app-access.ts';
import { appDecisionOf, decisionText } from './app-registry.ts';
import type { CloudAccess } from './cloud-access.ts';
import type { BridgeConfig } from './config.ts';
import { escapeHtml, linesOf } from './html.ts';
import { checkedPost, page, sessionOf } from './people-pages.ts';
import { issueEnrollmentCode } from './people-routes.ts';
import { note } from './request-context.ts';
import type { Session, Sessions } from './sign-in.ts';
import type { BridgeStore } from './store.ts';
import { trustSettingsOf, trustText } from './trust-settings.ts';

export interface AdminPageDeps {
  config: BridgeConfig;
  access: CloudAccess;
  sessions: Sessions;
  store: BridgeStore;
  isOnline(gatewayId: string): boolean;
  disconnect(gatewayId: string): void;
}

const AUDIT_HOURS = 24;
const AUDIT_ROWS = 200;

interface Admin {
  session: Session;
  /** The organisation administered: the person's own, or (a global admin) the one asked for. */
  organisation: string;
}

function adminOf(deps: AdminPageDeps, session: Session | undefined, asked: unknown, action: string): Admin {
  if (!session) throw gatewayError('PG_ERR_UNAUTHENTICATED', 'sign in first');
  const organisation = typeof asked === 'string' && asked ? asked : session.identity.organisation;
  deps.access.requireOrgAdmin(session.identity, organisation, action);
  return { session, organisation };
}

const adminUrl = (organisation: string) => `/admin?organisation=${encodeURIComponent(organisation)}`;

async function adminBody(
  deps: AdminPageDeps,
  { session, organisation }: Admin,
  notice = '',
  filter: AppAccessFilter = {},
): Promise<string> {
  const { store } = deps;
  const csrf = `<input type="hidden" name="csrf" value="${session.csrf}"><input type="hidden" name="organisation" value="${escapeHtml(organisation)}">`;
  const others = deps.access.isGlobalAdmin(session.identity)
    ? `<nav aria-label="Organisations"><p>Global admin: ${Object.keys(deps.config.organisations)
        .map((o) =>
          o === organisation
            ? `<strong>${escapeHtml(o)}</strong>`
            : `<a href="${adminUrl(o)}">${escapeHtml(o)}</a>`,
        )
        .join(' · ')}</p></nav>`
    : '';
  const gateways = (await store.listGateways(organisation))
    .map(
      (
        g,
      ) => `<tr><td>${escapeHtml(g.id)}</td><td>${escapeHtml(g.name)}</td><td>${g.enrolledAt ? `enrolled ${escapeHtml(g.enrolledAt)}` : 'not enrolled'}</td>
<td>${deps.isOnline(g.id) ? 'online' : 'offline'}</td>
<td><form method="post" action="/admin/gateways/delete">${csrf}<input type="hidden" name="id" value="${escapeHtml(g.id)}"><button type="submit" aria-label="Delete gateway ${escapeHtml(g.id)}">Delete</button></form></td></tr>`,
    )
    .join('\n');
  const policy = deps.config.organisations[organisation]?.appPolicy ?? 'allowListed';
  const apps = await Promise.all(
    (await store.listApps(organisation)).map(async (a) => {
      const decision = await store.appDecision(organisation, a.clientId);
      const effective =
        policy === 'open' && !decision ? 'allowed for everyone (open policy)' : decisionText(decision);
      const id = escapeHtml(a.clientId);
      return `<tr><td>${id}</td><td>${escapeHtml(a.name)}</td><td>${escapeHtml(a.publisher)}</td><td>${a.offlineAccess ? 'yes' : 'no'}</td>
<td>${escapeHtml(effective)}</td><td><form method="post" action="/admin/apps">${csrf}<input type="hidden" name="clientId" value="${id}">
<label for="principals-${id}">Only for (users and groups, one per line; empty: everyone)</label><br>
<textarea id="principals-${id}" name="principals" rows="2" cols="40">${escapeHtml(decision?.principals?.join('\n') ?? '')}</textarea><br>
<button type="submit" name="allowed" value="yes" aria-label="Allow ${id}">Allow</button>
<button type="submit" name="allowed" value="no" aria-label="Refuse ${id}">Refuse</button></form></td></tr>`;
    }),
  );
  const since = new Date(Date.now() - AUDIT_HOURS * 3_600_000).toISOString();
  const audit = (await store.listAudit(organisation, since, AUDIT_ROWS))
    .map(
      (e) =>
        `<tr><td>${escapeHtml(e.time)}</td><td>${escapeHtml(e.subject ?? '')}</td><td>${escapeHtml(e.app ?? '')}</td><td>${escapeHtml(e.action)}</td>
<td>${escapeHtml([e.gatewayId, e.sourceId].filter(Boolean).join(' / '))}</td><td>${escapeHtml(e.outcome)}</td><td>${escapeHtml(e.detail ?? '')}</td></tr>`,
    )
    .join('\n');
  const access = (
    await appAccess(store, organisation, deps.config.auth.clientId, { ...filter, limit: AUDIT_ROWS })
  )
    .map(
      (e) =>
        `<tr><td>${escapeHtml(e.time)}</td><td>${escapeHtml(e.subject ?? '')}</td><td>${escapeHtml(e.app ?? '')}</td><td>${escapeHtml(e.gatewayId ?? '')}</td>
<td>${escapeHtml(e.sourceId ?? '')}</td><td>${escapeHtml(e.action)}</td><td>${escapeHtml(e.outcome)}</td></tr>`,
    )
    .join('\n');
  const value = (v: string | undefined) => escapeHtml(v ?? '');
  const trust = await deps.access.trustOf(organisation);
  return `${others}${notice}
<h2>App access</h2>
<form method="get" action="/admin"><input type="hidden" name="organisation" value="${escapeHtml(organisation)}">
<label for="f-user">User</label> <input id="f-user" name="user" value="${value(filter.subject)}">
<label for="f-app">App</label> <input id="f-app" name="app" value="${value(filter.app)}">
<label for="f-gateway">Gateway</label> <input id="f-gateway" name="gateway" value="${value(filter.gatewayId)}">
<label for="f-outcome">Outcome (ok, refused or a code)</label> <input id="f-outcome" name="outcome" value="${value(filter.outcome)}">
<button type="submit">Filter</button></form>
<table><thead><tr><th scope="col">Time</th><th scope="col">Who</th><th scope="col">App</th><th scope="col">Gateway</th><th scope="col">Source</th><th scope="col">Operation</th><th scope="col">Outcome</th></tr></thead><tbody>${access}</tbody></table>
<h2>Trust settings</h2>
<form method="post" action="/admin/trust">${csrf}
<p><input type="checkbox" id="trust-offline" name="offlineAccess" value="allowed"${trust.offlineAccess === 'allowed' ? ' checked' : ''}>
<label for="trust-offline">People may let apps work for them while they are not signed in (offline access)</label></p>
<p><label for="trust-hours">App tokens from a sign-in at most this many hours old serve other apps</label><br>
<input id="trust-hours" name="sessionHours" type="number" min="0.1" max="8760" step="0.1" value="${trust.sessionHours}"></p>
<button type="submit">Save trust settings</button></form>
<h2>Gateways</h2>
<table><thead><tr><th scope="col">Id</th><th scope="col">Name</th><th scope="col">Enrollment</th><th scope="col">Link</th><th scope="col"></th></tr></thead><tbody>${gateways}</tbody></table>
<h2>Enroll a gateway</h2>
<form method="post" action="/admin/enrollment-codes">${csrf}
<p><label for="gateway-id">Gateway id (lower case, digits, - and _)</label><br><input id="gateway-id" name="id" required maxlength="63"></p>
<p><label for="gateway-name">Name</label><br><input id="gateway-name" name="name" maxlength="256"></p>
<button type="submit">Make a one-time code</button></form>
<h2>Apps (policy: ${escapeHtml(policy)})</h2>
<table><thead><tr><th scope="col">Client id</th><th scope="col">Name</th><th scope="col">Publisher</th><th scope="col">Offline access</th><th scope="col">Decision</th><th scope="col"></th></tr></thead><tbody>${apps.join('\n')}</tbody></table>
<h2>Audit, last ${AUDIT_HOURS} h</h2>
<table><thead><tr><th scope="col">Time</th><th scope="col">Who</th><th scope="col">App</th><th scope="col">Action</th><th scope="col">Gateway / source</th><th scope="col">Outcome</th><th scope="col">Detail</th></tr></thead><tbody>${audit}</tbody></table>`;
}

export function registerAdminPage(app: FastifyInstance, deps: AdminPageDeps): void {
  const { sessions, store } = deps;
  const title = (a: Admin) => `Organisation ${a.organisation}`;

  app.get<{ Querystring: Record<string, string | undefined> }>('/admin', async (request, reply) => {
    const found = sessionOf(request, sessions);
    if (!found) return reply.redirect(`/signin?return=${encodeURIComponent(request.url)}`, 303);
    const q = request.query;
    const admin = adminOf(deps, found, q.organisation, 'the admin page');
    note(request, { organisation: admin.organisation, subject: found.identity.subject });
    const filter: AppAccessFilter = {
      ...(q.user ? { subject: q.user } : {}),
      ...(q.app ? { app: q.app } : {}),
      ...(q.gateway ? { gatewayId: q.gateway } : {}),
      ...(q.outcome ? { outcome: q.outcome } : {}),
    };
    return page(reply, title(admin), await adminBody(deps, admin, '', filter), found);
  });

  app.post('/admin/enrollment-codes', async (request, reply) => {
    const form = request.body as Record<string, string | undefined>;
    const admin = adminOf(deps, checkedPost(request, sessions), form.organisation, 'enrolling gateways');
    const { session, organisation } = admin;
    const name = form.name?.trim() || undefined;
    const issued = await issueEnrollmentCode(store, organisation, form.id ?? '', name);
    note(request, {
      organisation,
      subject: session.identity.subject,
      gatewayId: issued.gatewayId,
      detail: 'enrollment code made',
    });
    // Shown once, on this answer only (it is not kept: the bridge stores its hash).
    const notice = `<p role="status">Enrollment code for <strong>${escapeHtml(issued.gatewayId)}</strong>, good once until ${escapeHtml(issued.expiresAt)}:
<code>${escapeHtml(issued.code)}</code>. On site: <code>plantgate enroll --config gateway.yaml --code ${escapeHtml(issued.code)}</code></p>`;
    return page(reply, title(admin), await adminBody(deps, admin, notice), session);
  });

  app.post('/admin/apps', async (request, reply) => {
    const form = request.body as Record<string, string | undefined>;
    const { session, organisation } = adminOf(
      deps,
      checkedPost(request, sessions),
      form.organisation,
      'choosing apps',
    );
    const registered = await store.getApp(form.clientId ?? '');
    if (!registered || registered.organisation !== organisation)
      throw gatewayError('PG_ERR_NOT_FOUND', `no app "${form.clientId}" is registered in ${organisation}`);
    const allowed = form.allowed === 'yes';
    const principals = linesOf(form.principals);
    const decision = appDecisionOf({ allowed, ...(allowed && principals.length ? { principals } : {}) });
    const before = await store.appDecision(organisation, registered.clientId);
    await store.setAppDecision(organisation, registered.clientId, decision);
    note(request, {
      organisation,
      subject: session.identity.subject,
      app: registered.clientId,
      detail: `app ${registered.clientId}: before ${decisionText(before)}, after ${decisionText(decision)}`,
    });
    return reply.redirect(adminUrl(organisation), 303);
  });

  app.post('/admin/trust', async (request, reply) => {
    const form = request.body as Record<string, string | undefined>;
    const { session, organisation } = adminOf(
      deps,
      checkedPost(request, sessions),
      form.organisation,
      'trust settings',
    );
    const settings = trustSettingsOf({
      offlineAccess: form.offlineAccess === 'allowed' ? 'allowed' : 'refused',
      sessionHours: Number(form.sessionHours),
    });
    const before = await deps.access.trustOf(organisation);
    await store.setTrustSettings(organisation, settings);
    note(request, {
      organisation,
      subject: session.identity.subject,
      detail: `trust: before ${trustText(before)}, after ${trustText(settings)}`,
    });
    return reply.redirect(adminUrl(organisation), 303);
  });

  app.post('/admin/gateways/delete', async (request, reply) => {
    const form = request.body as Record<string, string | undefined>;
    const { session, organisation } = adminOf(
      deps,
      checkedPost(request, sessions),
      form.organisation,
      'deleting gateways',
    );
    const id = form.id ?? '';
    const gateway = await store.getGateway(id);
    if (!gateway || gateway.organisation !== organisation)
      throw gatewayError('PG_ERR_NOT_FOUND', `no gateway "${id}" in organisation "${organisation}"`);
    await store.deleteGateway(id);
    deps.disconnect(id);
    note(request, {
      organisation,
      subject: session.identity.subject,
      gatewayId: id,
      detail: `gateway ${id} deleted`,
    });
    return reply.redirect(adminUrl(organisation), 303);
  });
}
