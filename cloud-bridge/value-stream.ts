/**
 * `GET /api/v1/gateways/{gw}/sources/{src}/values/stream?tags=a,b&publishInterval=1000` as a WebSocket:
 * the same checks as any operation, then values.subscribe over the link; each push from the gateway is
 * one text message `{"values":[…]}`. Closing the socket cancels the subscription at the gateway; a link
 * that drops closes the socket with code 1011 and the reason PG_ERR_LINK_LOST.
 */
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer } from 'ws';
import { checkOperationRequest, httpStatusOf, isPlantgateError, toErrorBody } from '../gateway/api/index.ts';
import type { CloudAccess } from './cloud-access.ts';
import type { EnvelopeFields, LinkDispatcher } from './link-dispatcher.ts';
import type { BridgeAuditEntry, BridgeStore } from './store.ts';
import type { TokenIdentity, TokenVerifier } from './tokens.ts';

export const STREAM_PATH = /^\/api\/v1\/gateways\/([^/]+)\/sources\/([^/]+)\/values\/stream$/;

export interface ValueStreamDeps {
  verifier: TokenVerifier;
  access: CloudAccess;
  dispatcher: LinkDispatcher;
  store: BridgeStore;
}

function refuse(socket: Duplex, error: unknown): void {
  const status = isPlantgateError(error) ? httpStatusOf(error.code) : 500;
  const body = JSON.stringify(toErrorBody(error));
  socket.end(
    `HTTP/1.1 ${status} Refused\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`,
  );
}

export class ValueStreams {
  private readonly server = new WebSocketServer({ noServer: true, maxPayload: 64 * 1024 });
  private readonly deps: ValueStreamDeps;

  constructor(deps: ValueStreamDeps) {
    this.deps = deps;
  }

  async handleUpgrade(request: IncomingMessage, socket: Duplex, head: Buffer): Promise<void> {
    const url = new URL(request.url ?? '/', 'https://bridge');
    const [, gatewayId = '', sourceId = ''] = STREAM_PATH.exec(url.pathname) ?? [];
    const entry: BridgeAuditEntry = {
      time: new Date().toISOString(),
      action: 'values.subscribe',
      outcome: 'ok',
      gatewayId,
      sourceId,
    };
    let identity: TokenIdentity | undefined;
    try {
      const header = request.headers.authorization ?? '';
      const token = header.replace(/^Bearer\s+/i, '');
      const claimed = this.deps.verifier.claimedOrganisation(token);
      if (claimed) entry.organisation = claimed;
      identity = await this.deps.verifier.verify(token);
      Object.assign(entry, {
        organisation: identity.organisation,
        subject: identity.subject,
        app: identity.app,
      });
      const { gateway, consent } = await this.deps.access.authorizeSourceCall(identity, gatewayId, sourceId);
      const interval = url.searchParams.get('publishInterval');
      const subscription = checkOperationRequest('values.subscribe', {
        tags: (url.searchParams.get('tags') ?? '').split(',').filter(Boolean),
        ...(interval === null ? {} : { publishInterval: Number(interval) }),
      });
      const fields: EnvelopeFields = {
        operation: 'values.subscribe',
        sourceId,
        principal: { subject: identity.subject, groups: identity.groups },
        app: identity.app,
        consentId: consent.id,
        request: subscription,
      };
      const call = await this.deps.dispatcher.call(gateway, fields);
      void this.deps.store.audit(entry).catch(() => undefined);
      this.server.handleUpgrade(request, socket, head, (ws) => {
        ws.on('close', () => void this.deps.dispatcher.cancel(gateway, call, fields));
        void (async () => {
          try {
            for await (const frame of call) {
              if (frame.header.kind === 'push' && ws.readyState === ws.OPEN)
                ws.send(frame.body.toString('utf8'));
              if (frame.header.kind === 'error') {
                const error = frame.header.error;
                ws.close(1011, `${error?.code ?? 'PG_ERR_INTERNAL'}`);
                return;
              }
            }
            ws.close(1000);
          } catch (error) {
            ws.close(1011, isPlantgateError(error) ? error.code : 'PG_ERR_INTERNAL');
          }
        })();
      });
    } catch (error) {
      entry.outcome = isPlantgateError(error) ? error.code : 'PG_ERR_INTERNAL';
      entry.detail = (error as Error).message.slice(0, 1000);
      void this.deps.store.audit(entry).catch(() => undefined);
      refuse(socket, error);
    }
  }

  close(): void {
    for (const client of this.server.clients) client.terminate();
  }
}
