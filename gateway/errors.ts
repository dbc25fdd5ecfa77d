/**
 * The catalogue of error codes: every `PG_ERR_*` the gateway (and its drivers) can answer, with its HTTP
 * status and one line of documentation. The same codes travel through the local API and, later, the
 * link and the bridge, so clients match on `error.code`.
 */
import { type DriverErrorCode, isPlantgateError, PlantgateError } from '../drivers/core/index.ts';

interface CodeDoc {
  status: number;
  doc: string;
}

const GATEWAY_CODES = {
  PG_ERR_BAD_REQUEST: {
    status: 400,
    doc: 'The request does not match the operation schema; the message names the path.',
  },
  PG_ERR_LIMIT_EXCEEDED: {
    status: 400,
    doc: 'The request asks for more than an operation allows (tags, values, buckets).',
  },
  PG_ERR_BAD_TIME: { status: 400, doc: 'A time is neither ISO 8601 nor a relative time such as *-1h.' },
  PG_ERR_UNKNOWN_OPERATION: { status: 404, doc: 'No typed operation has that name.' },
  PG_ERR_SOURCE_NOT_FOUND: { status: 404, doc: 'The gateway has no data source with that id.' },
  PG_ERR_ACCESS_DENIED: {
    status: 403,
    doc: 'No role rule lets the caller do this operation on this source (or this tag); administration is local only.',
  },
  PG_ERR_UNAUTHENTICATED: {
    status: 401,
    doc: 'No valid credential: the local API needs the local token, the bridge a valid bearer token from a configured issuer.',
  },
  PG_ERR_FORBIDDEN: {
    status: 403,
    doc: "The caller's cloud role does not allow this (e.g. only an organisation's admins create enrollment codes).",
  },
  PG_ERR_APP_NOT_ALLOWED: { status: 403, doc: "The user's organisation does not allow this app." },
  PG_ERR_CONSENT_REQUIRED: {
    status: 403,
    doc: 'The user has not consented to this app using this gateway source (or revoked it).',
  },
  PG_ERR_NOT_FOUND: { status: 404, doc: 'No such gateway, consent or app at the bridge.' },
  PG_ERR_CONFLICT: {
    status: 409,
    doc: 'The request conflicts with what exists: an idempotency key reused for another request, an id taken.',
  },
  PG_ERR_ENROLLMENT_REFUSED: {
    status: 403,
    doc: 'The enrollment code is unknown, used or expired, or names another gateway.',
  },
  PG_ERR_ENVELOPE_REJECTED: {
    status: 403,
    doc: 'The gateway refused a link request: bad signature, expired, replayed or addressed to another gateway.',
  },
  PG_ERR_GATEWAY_OFFLINE: { status: 503, doc: 'The gateway has no link to the bridge right now.' },
  PG_ERR_IDP_UNREACHABLE: {
    status: 502,
    doc: "The bridge cannot reach an identity provider's discovery document or keys; sign-in waits for it.",
  },
  PG_ERR_RATE_LIMITED: { status: 429, doc: 'Too many requests of this kind at once; try again shortly.' },
  PG_ERR_BRIDGE_UNREACHABLE: {
    status: 502,
    doc: 'The gateway cannot reach the bridge: network, proxy, DNS or a certificate it does not trust.',
  },
  PG_ERR_LINK_LOST: { status: 502, doc: 'The link to the gateway dropped while the request was in flight.' },
  PG_ERR_CONFIG_INVALID: {
    status: 400,
    doc: 'The configuration file breaks the schema; the message names file, path and reason.',
  },
  PG_ERR_NO_HISTORY: { status: 409, doc: 'The source keeps no history and does not record values locally.' },
  PG_ERR_AUDIT_UNAVAILABLE: {
    status: 503,
    doc: 'The audit record of the request could not be written durably, so its answer is withheld.',
  },
  PG_ERR_SECRET_UNSEALABLE: {
    status: 500,
    doc: 'A sealed setting does not open on this machine, for this source and setting; the message names the setting.',
  },
  PG_ERR_TIMEOUT: { status: 504, doc: 'The operation did not finish within its time limit.' },
  PG_ERR_INTERNAL: { status: 500, doc: 'An unexpected failure; the gateway log has the details.' },
} as const satisfies Record<string, CodeDoc>;

const DRIVER_CODES = {
  PG_ERR_NOT_SUPPORTED: { status: 400, doc: "The source's driver does not offer this operation or option." },
  PG_ERR_TAG_NOT_FOUND: { status: 404, doc: 'No tag with that id or name in the source.' },
  PG_ERR_TAG_NOT_WRITABLE: { status: 403, doc: 'The tag is not marked writable, or its table is read-only.' },
  PG_ERR_BAD_VALUE: { status: 400, doc: "A written value does not fit the tag's type or range." },
  PG_ERR_SOURCE_UNAVAILABLE: {
    status: 503,
    doc: 'The source is stopped, starting or cannot reach its device.',
  },
  PG_ERR_DEVICE_TIMEOUT: { status: 504, doc: 'The device did not answer in time.' },
  PG_ERR_DEVICE_EXCEPTION: {
    status: 502,
    doc: 'The device answered with an exception: a Modbus exception code, an error from a database.',
  },
  PG_ERR_ABORTED: { status: 499, doc: 'The caller cancelled the operation.' },
  PG_ERR_BAD_SETTINGS: { status: 400, doc: "A source's settings are not usable by its driver." },
} as const satisfies Record<DriverErrorCode, CodeDoc>;

export const ERROR_CATALOGUE = { ...GATEWAY_CODES, ...DRIVER_CODES } as const;
export type ErrorCode = keyof typeof ERROR_CATALOGUE;

export function gatewayError(
  code: ErrorCode,
  message: string,
  details?: Record<string, unknown>,
): PlantgateError<ErrorCode> {
  return new PlantgateError(code, message, details);
}

export function httpStatusOf(code: string): number {
  return (ERROR_CATALOGUE as Record<string, CodeDoc>)[code]?.status ?? 500;
}

export interface ErrorBody {
  error: { code: string; message: string; details?: Record<string, unknown> };
}

/** The wire form of any error: known codes keep their message, anything else becomes PG_ERR_INTERNAL. */
export function toErrorBody(error: unknown): ErrorBody {
  if (isPlantgateError(error) && error.code in ERROR_CATALOGUE) {
    return {
      error: {
        code: error.code,
        message: error.message,
        ...(error.details ? { details: error.details } : {}),
      },
    };
  }
  return { error: { code: 'PG_ERR_INTERNAL', message: 'internal error; see the gateway log' } };
}

export { isPlantgateError, PlantgateError };
