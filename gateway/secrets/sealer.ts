/**
 * Sealed secrets: `enc:v1:` values in the config, XChaCha20-Poly1305 (libsodium, through sodium-native)
 * under a master key that lives in dataDir, itself wrapped with a key derived from the machine's identity.
 * The associated data names the driver, the source and the setting, so a sealed value copied to another
 * setting, another source or another machine does not open — the same idea as a machine-scope
 * data-protection API with per-setting entropy.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import sodium from 'sodium-native';
import { PlantgateError } from '../../drivers/core/index.ts';
import { AEAD_KEY_BYTES, aeadOpen, aeadSeal } from '../api/aead.ts';

export const SEALED_PREFIX = 'enc:v1:';
const KEY = AEAD_KEY_BYTES;
const MASTER_AD = Buffer.from('plantgate master key v1');

/** Which setting a secret belongs to; part of what is authenticated. */
export interface SecretSetting {
  driver: string;
  source: string;
  /** Path inside the source's settings, e.g. `connection.password`. */
  field: string;
}

const associatedData = (s: SecretSetting) => Buffer.from(`plantgate:v1|${s.driver}|${s.source}|${s.field}`);
export const settingName = (s: SecretSetting) => `source "${s.source}" settings.${s.field}`;

export class Sealer {
  private readonly masterKey: Buffer;

  private constructor(masterKey: Buffer) {
    this.masterKey = masterKey;
  }

  /** Opens (or, the first time, creates) the master key in dataDir for this machine's identity. */
  static open(dataDir: string, identity: string): Sealer {
    const kek = Buffer.alloc(KEY);
    sodium.crypto_generichash(kek, Buffer.from(identity), Buffer.from('plantgate machine key derivation v1'));
    const dir = path.join(dataDir, 'keys');
    const file = path.join(dir, 'master-key');
    let stored: Buffer | undefined;
    try {
      stored = Buffer.from(readFileSync(file, 'utf8').trim(), 'base64url');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    }
    if (!stored) {
      const master = Buffer.alloc(KEY);
      sodium.randombytes_buf(master);
      mkdirSync(dir, { recursive: true, mode: 0o700 });
      writeFileSync(file, `${aeadSeal(kek, master, MASTER_AD).toString('base64url')}\n`, {
        mode: 0o600,
        flag: 'wx',
      });
      return new Sealer(master);
    }
    const master = aeadOpen(kek, stored, MASTER_AD);
    if (!master) {
      throw new PlantgateError(
        'PG_ERR_SECRET_UNSEALABLE',
        `the master key in ${file} was made on another machine (or the machine's identity changed): secrets sealed there cannot be opened here; seal them again on this machine`,
      );
    }
    return new Sealer(master);
  }

  seal(plaintext: string, setting: SecretSetting): string {
    return (
      SEALED_PREFIX +
      aeadSeal(this.masterKey, Buffer.from(plaintext, 'utf8'), associatedData(setting)).toString('base64url')
    );
  }

  /** The plaintext, or an error that names the setting (never anything of the value). */
  unseal(value: string, setting: SecretSetting): string {
    if (!value.startsWith(SEALED_PREFIX)) {
      throw new PlantgateError(
        'PG_ERR_SECRET_UNSEALABLE',
        `${settingName(setting)} is not a sealed value (enc:v1:…)`,
      );
    }
    const opened = aeadOpen(
      this.masterKey,
      Buffer.from(value.slice(SEALED_PREFIX.length), 'base64url'),
      associatedData(setting),
    );
    if (!opened) {
      throw new PlantgateError(
        'PG_ERR_SECRET_UNSEALABLE',
        `${settingName(setting)} does not open here: it was sealed for another source or setting, on another machine, or it was altered; seal it again with plantgate secrets seal`,
      );
    }
    return opened.toString('utf8');
  }
}

/** A copy of `settings` with every sealed value opened, and the plaintexts (for redaction). */
export function unsealSettings(
  settings: unknown,
  sealer: Sealer,
  where: { driver: string; source: string },
): { settings: unknown; secrets: string[] } {
  const secrets: string[] = [];
  const walk = (value: unknown, at: string): unknown => {
    if (typeof value === 'string' && value.startsWith(SEALED_PREFIX)) {
      const plaintext = sealer.unseal(value, { ...where, field: at });
      secrets.push(plaintext);
      return plaintext;
    }
    if (Array.isArray(value)) return value.map((v, i) => walk(v, `${at}[${i}]`));
    if (value && typeof value === 'object') {
      return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, walk(v, at ? `${at}.${k}` : k)]));
    }
    return value;
  };
  return { settings: walk(settings, ''), secrets };
}
