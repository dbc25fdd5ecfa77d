/**
 * The developer's page: the organisation's apps, and a form to register one or change it (name,
 * publisher, redirect addresses one per line, offline access). Developers and org admins only; every
 * change goes through the same checks as `POST /api/v1/apps` and is audited with before and after.
 */
import type { FastifyInstance } from 'fastify';
import { appChange, saveApp } from './app-registry.ts';
import type { CloudAccess } from './cloud-access.ts';
import { escapeHtml, linesOf } from './html.ts';
import { checkedPost, page, sessionOf } from './people-pages.ts';
import { note } from './request-context.ts';
import type { Session, Sessions } from './sign-in.ts';
import type { AppRecord, BridgeStore } from './store.ts';

export interface DeveloperPageDeps {
  access: CloudAccess;
  sessions: Sessions;
  store: BridgeStore;
}

function developerBody(session: Session, apps: AppRecord[], saved?: string): string {
  const rows = apps
    .map(
      (
        a,
      ) => `<tr><td>${escapeHtml(a.clientId)}</td><td>${escapeHtml(a.name)}</td><td>${escapeHtml(a.publisher)}</td>
<td>${a.redirectUris.map(escapeHtml).join('<br>')}</td><td>${a.offlineAccess ? 'yes' : 'no'}</td>
<td>${escapeHtml(a.updatedBy)}, ${escapeHtml(a.updatedAt)}</td></tr>`,
    )
    .join('\n');
  const field = (id: string, label: string, input: string) =>
    `<p><label for="${id}">${label}</label><br>${input}</p>`;
  return `${saved ? `<p role="status">${escapeHtml(saved)}</p>` : ''}
${
  apps.length
    ? `<table><thead><tr><th scope="col">Client id</th><th scope="col">Name</th><th scope="col">Publisher</th><th scope="col">Redirect addresses</th><th scope="col">Offline access</th><th scope="col">Last changed</th></tr></thead><tbody>${rows}</tbody></table>`
    : `<p>Organisation ${escapeHtml(session.identity.organisation)} has no registered app yet.</p>`
}
<h2>Register an app, or change one (same client id)</h2>
<form method="post" action="/developer/apps"><input type="hidden" name="csrf" value="${session.csrf}">
${field('clientId', 'Client id (as the identity provider knows the app)', '<input id="clientId" name="clientId" required maxlength="128">')}
${field('name', 'Name', '<input id="name" name="name" required maxlength="256">')}
${field('publisher', 'Publisher', '<input id="publisher" name="publisher" required maxlength="256">')}
${field('redirectUris', 'Redirect addresses, one per line (https, or http on loopback)', '<textarea id="redirectUris" name="redirectUris" required rows="3" cols="60"></textarea>')}
<p><input type="checkbox" id="offlineAccess" name="offlineAccess" value="yes"> <label for="offlineAccess">Asks for offline access (keeps working while the person is not signed in)</label></p>
<button type="submit">Save</button></form>`;
}

export function registerDeveloperPage(app: FastifyInstance, deps: DeveloperPageDeps): void {
  const { access, sessions, store } = deps;

  app.get<{ Querystring: { saved?: string } }>('/developer', async (request, reply) => {
    const session = sessionOf(request, sessions);
    if (!session) return reply.redirect(`/signin?return=${encodeURIComponent('/developer')}`, 303);
    access.requireDeveloper(session.identity, 'the developer page');
    const apps = await store.listApps(session.identity.organisation);
    const saved = request.query.saved ? `App ${request.query.saved} saved.` : undefined;
    return page(reply, 'Developer: apps', developerBody(session, apps, saved), session);
  });

  app.post('/developer/apps', async (request, reply) => {
    const session = checkedPost(request, sessions);
    access.requireDeveloper(session.identity, 'registering apps');
    const form = request.body as Record<string, string | undefined>;
    const { record, before } = await saveApp(store, session.identity, {
      clientId: form.clientId,
      name: form.name,
      publisher: form.publisher,
      redirectUris: linesOf(form.redirectUris),
      offlineAccess: form.offlineAccess === 'yes',
    });
    note(request, {
      organisation: session.identity.organisation,
      subject: session.identity.subject,
      app: record.clientId,
      detail: appChange(record, before),
    });
    return reply.redirect(`/developer?saved=${encodeURIComponent(record.clientId)}`, 303);
  });
}
