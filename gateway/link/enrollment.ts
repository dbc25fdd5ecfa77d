/**
 * Enrollment on site (`plantgate enroll`): the gateway makes its link key pairs, sends the public halves
 * with a one-time code to the bridge, and pins the bridge's public keys from the answer. The gateway's
 * secret keys are sealed to this machine (like every secret of the gateway) in dataDir/keys/link-keys;
 * what was pinned lives in dataDir/link/enrollment.json. Enrolling again replaces both.
 */
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import {
  decodeKeyPair,
  decodePublicKeys,
  encodeKeyPair,
  generateLinkKeys,
  type LinkKeyPair,
  type LinkPublicKeys,
  publicKeysOf,
} from '../api/link-crypto.ts';
import { gatewayError } from '../errors.ts';
import type { Sealer } from '../secrets/sealer.ts';
import { type HttpsOptions, postJson } from './https-request.ts';

/** What the gateway pinned when it enrolled. */
export interface Enrollment {
  gatewayId: string;
  organisation: string;
  /** The bridge's origin, e.g. https://bridge.example.com */
  bridgeOrigin: string;
  linkPath: string;
  bridge: LinkPublicKeys;
  enrolledAt: string;
}

const KEYS_SETTING = { driver: 'plantgate', source: 'link', field: 'keys' };
const enrollmentFile = (dataDir: string) => path.join(dataDir, 'link', 'enrollment.json');
const keysFile = (dataDir: string) => path.join(dataDir, 'keys', 'link-keys');

function writeAtomically(file: string, text: string): void {
  mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
  const temp = `${file}.${process.pid}.tmp`;
  writeFileSync(temp, text, { mode: 0o600 });
  renameSync(temp, file);
}

/** `https://host[:port]` of a bridge given as https://… or wss://…/link. */
export function bridgeOriginOf(url: string): string {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw gatewayError('PG_ERR_BAD_REQUEST', `the bridge "${url}" is not a URL`);
  }
  if (parsed.protocol !== 'https:' && parsed.protocol !== 'wss:')
    throw gatewayError(
      'PG_ERR_BAD_REQUEST',
      `the bridge "${url}" must be https:// or wss:// (the link is always encrypted)`,
    );
  return `https://${parsed.host}`;
}

export interface EnrollOptions extends HttpsOptions {
  dataDir: string;
  gatewayId: string;
  bridge: string;
  code: string;
  sealer: Sealer;
}

export async function enroll(options: EnrollOptions): Promise<Enrollment> {
  const bridgeOrigin = bridgeOriginOf(options.bridge);
  const keys = generateLinkKeys();
  const answer = (await postJson(
    `${bridgeOrigin}/api/v1/enroll`,
    { code: options.code, gatewayId: options.gatewayId, ...publicKeysOf(keys) },
    options,
  )) as { gatewayId?: string; organisation?: string; bridge?: LinkPublicKeys; linkPath?: string };
  if (answer.gatewayId !== options.gatewayId || !answer.bridge || typeof answer.linkPath !== 'string')
    throw gatewayError('PG_ERR_INTERNAL', 'the bridge answered the enrollment with something else');
  decodePublicKeys(answer.bridge);
  const enrollment: Enrollment = {
    gatewayId: options.gatewayId,
    organisation: answer.organisation ?? '',
    bridgeOrigin,
    linkPath: answer.linkPath,
    bridge: answer.bridge,
    enrolledAt: new Date().toISOString(),
  };
  writeAtomically(
    keysFile(options.dataDir),
    `${options.sealer.seal(JSON.stringify(encodeKeyPair(keys)), KEYS_SETTING)}\n`,
  );
  writeAtomically(enrollmentFile(options.dataDir), `${JSON.stringify(enrollment, null, 2)}\n`);
  return enrollment;
}

/** The enrollment and the gateway's keys, or undefined when this gateway never enrolled. */
/** The enrollment record alone (no keys), or undefined before enrollment. */
export function enrollmentFacts(dataDir: string): Enrollment | undefined {
  try {
    return JSON.parse(readFileSync(enrollmentFile(dataDir), 'utf8')) as Enrollment;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
}

export function readEnrollment(
  dataDir: string,
  sealer: () => Sealer,
): { enrollment: Enrollment; keys: LinkKeyPair } | undefined {
  let text: string;
  try {
    text = readFileSync(enrollmentFile(dataDir), 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
  const enrollment = JSON.parse(text) as Enrollment;
  const sealed = readFileSync(keysFile(dataDir), 'utf8').trim();
  const keys = decodeKeyPair(JSON.parse(sealer().unseal(sealed, KEYS_SETTING)));
  return { enrollment, keys };
}
