/**
 * Console › Enrollment (this gateway's enrollment with the bridge and the fingerprint of the bridge
 * key it pinned; enrolling with a one-time code) and › OPC UA certificates (the gateway's own, the
 * trusted and the rejected server certificates; trust or reject one). Each change is audited.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { FastifyInstance } from 'fastify';
import {
  type CertificateFacts,
  listCertificates,
  rejectTrusted,
  trustRejected,
} from '../../drivers/opcua/index.ts';
import type { AuditEvent } from '../audit/record.ts';
import type { GatewayConfig } from '../config/schema.ts';
import { gatewayError } from '../errors.ts';
import { type Enrollment, enroll, enrollmentFacts } from '../link/enrollment.ts';
import type { Sealer } from '../secrets/sealer.ts';
import { checkedPost, consoleAuditEvent, escapeHtml, page, requireSession } from './page.ts';
import type { ConsoleSession, ConsoleSessions } from './sessions.ts';

export interface LinkPkiDeps {
  config: GatewayConfig;
  sealer(): Promise<Sealer>;
  audit(event: AuditEvent): Promise<void>;
}

/** SHA-256 of the bridge's two public keys, in groups of four hex digits, as a person compares it. */
export function bridgeKeyFingerprint(e: Enrollment): string {
  const digest = createHash('sha256')
    .update(`${e.bridge.signPublicKey}\n${e.bridge.boxPublicKey}`)
    .digest('hex')
    .toUpperCase();
  return digest.match(/.{4}/g)!.join(' ');
}

function enrollmentPage(session: ConsoleSession, config: GatewayConfig, message = ''): string {
  const e = enrollmentFacts(config.gateway.dataDir);
  const facts = e
    ? `<dl><dt>Gateway</dt><dd>${escapeHtml(e.gatewayId)}</dd><dt>Organisation</dt><dd>${escapeHtml(e.organisation)}</dd><dt>Bridge</dt><dd>${escapeHtml(e.bridgeOrigin)}</dd>
<dt>Enrolled</dt><dd>${escapeHtml(e.enrolledAt)}</dd><dt>Pinned bridge key</dt><dd><code>${bridgeKeyFingerprint(e)}</code></dd></dl>`
    : '<p>This gateway is not enrolled with a bridge.</p>';
  return `${message}${facts}<h2>${e ? 'Enroll again' : 'Enroll'}</h2>
<form method="post" action="/console/enrollment"><input type="hidden" name="csrf" value="${session.csrf}">
<p><label>Bridge <input name="bridge" size="50" value="${escapeHtml(config.link?.bridge ?? '')}" placeholder="https://bridge.example.com"></label></p>
<p><label>One-time enrollment code <input name="code" size="40" required autocomplete="off"></label></p>
<p><button type="submit">Enroll</button></p></form>`;
}

const certificateRow = (c: CertificateFacts, action: string, label: string, session: ConsoleSession) =>
  `<tr><td>${escapeHtml(c.subject)}</td><td><code>${c.thumbprint}</code></td><td>${escapeHtml(c.notAfter)} (${c.daysLeft} days)</td>
<td><form method="post" action="/console/certificates/${action}"><input type="hidden" name="csrf" value="${session.csrf}"><input type="hidden" name="thumbprint" value="${c.thumbprint}"><button type="submit">${label} ${escapeHtml(c.subject)}</button></form></td></tr>`;

function certificatesPage(session: ConsoleSession, pkiDir: string, message = ''): string {
  const { own, trusted, rejected } = listCertificates(pkiDir);
  const head =
    '<thead><tr><th scope="col">Subject</th><th scope="col">Thumbprint</th><th scope="col">Valid until</th><th scope="col"></th></tr></thead>';
  return `${message}<h2>The gateway's own</h2>${
    own
      ? `<p>${escapeHtml(own.subject)} — <code>${own.thumbprint}</code>, valid until ${escapeHtml(own.notAfter)}</p>`
      : '<p>None yet (made when the first OPC UA source starts).</p>'
  }
<h2>Rejected: waiting for a decision</h2><table>${head}<tbody>${rejected.map((c) => certificateRow(c, 'trust', 'Trust', session)).join('')}</tbody></table>
<h2>Trusted</h2><table>${head}<tbody>${trusted.map((c) => certificateRow(c, 'reject', 'Reject', session)).join('')}</tbody></table>`;
}

export function registerLinkPkiPages(
  app: FastifyInstance,
  sessions: ConsoleSessions,
  deps: LinkPkiDeps,
): void {
  const pkiDir = path.join(deps.config.gateway.dataDir, 'pki');
  const note = (detail: string, outcome = 'ok') => deps.audit(consoleAuditEvent(detail, outcome));

  app.get('/console/enrollment', async (request, reply) => {
    const session = requireSession(request, sessions);
    return page(reply, 'Enrollment', enrollmentPage(session, deps.config), session);
  });

  app.post<{ Body: { bridge?: string; code?: string } }>('/console/enrollment', async (request, reply) => {
    const session = checkedPost(request, sessions);
    const bridge = request.body.bridge?.trim() || deps.config.link?.bridge;
    const code = request.body.code?.trim() ?? '';
    try {
      if (!bridge)
        throw gatewayError(
          'PG_ERR_BAD_REQUEST',
          'name the bridge (https://…) or set link.bridge in the config',
        );
      const caFile = deps.config.link?.caFile;
      const e = await enroll({
        dataDir: deps.config.gateway.dataDir,
        gatewayId: deps.config.gateway.id,
        bridge,
        code,
        sealer: await deps.sealer(),
        ...(caFile ? { ca: readFileSync(caFile, 'utf8') } : {}),
        ...(deps.config.link?.proxy ? { proxy: deps.config.link.proxy } : {}),
      });
      await note(
        `enrolled with ${e.bridgeOrigin} from the console; pinned bridge key ${bridgeKeyFingerprint(e)}`,
      );
      const hint = deps.config.link
        ? 'The link uses the new keys from its next connection.'
        : 'Add link: { bridge: … } to the config to connect.';
      return page(
        reply,
        'Enrollment',
        enrollmentPage(session, deps.config, `<p role="status">Enrolled. ${hint}</p>`),
        session,
      );
    } catch (error) {
      await note(
        `enrollment from the console refused: ${(error as Error).message}`,
        'PG_ERR_ENROLLMENT_REFUSED',
      );
      return page(
        reply,
        'Enrollment',
        enrollmentPage(session, deps.config, `<p role="alert">${escapeHtml((error as Error).message)}</p>`),
        session,
        400,
      );
    }
  });

  app.get('/console/certificates', async (request, reply) => {
    const session = requireSession(request, sessions);
    return page(reply, 'OPC UA certificates', certificatesPage(session, pkiDir), session);
  });

  for (const action of ['trust', 'reject'] as const) {
    app.post<{ Body: { thumbprint?: string } }>(`/console/certificates/${action}`, async (request, reply) => {
      const session = checkedPost(request, sessions);
      const thumbprint = request.body.thumbprint ?? '';
      const c = action === 'trust' ? trustRejected(pkiDir, thumbprint) : rejectTrusted(pkiDir, thumbprint);
      await note(
        `OPC UA server certificate ${action === 'trust' ? 'trusted' : 'rejected'} from the console: ${c.thumbprint} ${c.subject}`,
      );
      const done = `<p role="status">${escapeHtml(c.subject)} is ${action === 'trust' ? 'trusted' : 'rejected'}.</p>`;
      return page(reply, 'OPC UA certificates', certificatesPage(session, pkiDir, done), session);
    });
  }
}
