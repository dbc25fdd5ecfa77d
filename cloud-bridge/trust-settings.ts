/** An organisation's trust settings as its admins state them, checked once for the API and the page. */
import { gatewayError } from '../gateway/api/index.ts';
import type { TrustSettings } from './store.ts';

export function trustSettingsOf(value: unknown): TrustSettings {
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    throw gatewayError('PG_ERR_BAD_REQUEST', 'the body must be a JSON object');
  const { offlineAccess, sessionHours, ...rest } = value as Record<string, unknown>;
  const unknown = Object.keys(rest)[0];
  if (unknown !== undefined) throw gatewayError('PG_ERR_BAD_REQUEST', `unknown field "${unknown}"`);
  if (offlineAccess !== 'allowed' && offlineAccess !== 'refused')
    throw gatewayError('PG_ERR_BAD_REQUEST', 'offlineAccess must be "allowed" or "refused"');
  if (typeof sessionHours !== 'number' || !(sessionHours >= 0.1 && sessionHours <= 8760))
    throw gatewayError('PG_ERR_BAD_REQUEST', 'sessionHours must be a number from 0.1 to 8760');
  return { offlineAccess, sessionHours };
}

export const trustText = (t: TrustSettings) =>
  `offline access ${t.offlineAccess}, app tokens from sign-ins up to ${t.sessionHours} h old`;
