/**
 * `POST /api/v1/enroll`: a gateway on site trades a one-time enrollment code for the bridge's public
 * keys, and the bridge pins the gateway's. The code is the credential (192 random bits, stored hashed,
 * good once for 24 h and for the gateway it was made for). Enrolling again replaces the pinned keys and
 * closes the gateway's current link.
 */
import type { FastifyInstance } from 'fastify';
import {
  decodePublicKeys,
  gatewayError,
  isLinkId,
  type LinkKeyPair,
  type LinkPublicKeys,
  publicKeysOf,
} from '../gateway/api/index.ts';
import { hashCode } from './people-routes.ts';
import { note } from './request-context.ts';
import type { BridgeStore } from './store.ts';

export interface EnrollmentRequest extends LinkPublicKeys {
  code: string;
  gatewayId: string;
}

export interface EnrollmentAnswer {
  gatewayId: string;
  organisation: string;
  bridge: LinkPublicKeys;
  /** Path of the link endpoint on the bridge's origin. */
  linkPath: string;
}

export function registerEnrollmentRoute(
  app: FastifyInstance,
  deps: { store: BridgeStore; keys: LinkKeyPair; disconnect(gatewayId: string): void },
): void {
  app.post('/api/v1/enroll', async (request): Promise<EnrollmentAnswer> => {
    const wanted = (request.body ?? {}) as Partial<EnrollmentRequest>;
    const gatewayId = typeof wanted.gatewayId === 'string' ? wanted.gatewayId : '';
    note(request, { action: 'enroll', ...(isLinkId(gatewayId) ? { gatewayId } : {}) });
    if (!isLinkId(gatewayId))
      throw gatewayError('PG_ERR_BAD_REQUEST', 'gatewayId is missing or not a gateway id');
    if (typeof wanted.code !== 'string' || wanted.code.length > 256)
      throw gatewayError('PG_ERR_BAD_REQUEST', 'code is missing');
    const keys = decodePublicKeys(wanted as LinkPublicKeys);
    const gateway = await deps.store.getGateway(gatewayId);
    if (gateway) note(request, { organisation: gateway.organisation });
    if (!gateway || !(await deps.store.consumeEnrollmentCode(hashCode(wanted.code), gatewayId, Date.now())))
      throw gatewayError(
        'PG_ERR_ENROLLMENT_REFUSED',
        `the enrollment code is unknown, used or expired, or not for gateway "${gatewayId}"`,
      );
    await deps.store.pinGatewayKeys(gatewayId, {
      signPublicKey: keys.sign.toString('base64url'),
      boxPublicKey: keys.box.toString('base64url'),
    });
    deps.disconnect(gatewayId);
    return {
      gatewayId,
      organisation: gateway.organisation,
      bridge: publicKeysOf(deps.keys),
      linkPath: '/link',
    };
  });
}
