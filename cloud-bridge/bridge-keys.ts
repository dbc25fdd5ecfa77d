/**
 * The bridge's own material in its dataDir: its link key pairs (created on first start, file mode 0600)
 * and, when the config names no certificate, a self-signed one for loopback and demos.
 */
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { decodeKeyPair, encodeKeyPair, generateLinkKeys, type LinkKeyPair } from '../gateway/api/index.ts';

function writePrivate(file: string, text: string): void {
  mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
  const temp = `${file}.${process.pid}.tmp`;
  writeFileSync(temp, text, { mode: 0o600 });
  renameSync(temp, file);
}

function readIfExists(file: string): string | undefined {
  try {
    return readFileSync(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
}

export function bridgeLinkKeys(dataDir: string): LinkKeyPair {
  const file = path.join(dataDir, 'keys', 'link-keys.json');
  const stored = readIfExists(file);
  if (stored) return decodeKeyPair(JSON.parse(stored));
  const keys = generateLinkKeys();
  writePrivate(file, `${JSON.stringify(encodeKeyPair(keys), null, 2)}\n`);
  return keys;
}

export interface TlsMaterial {
  cert: string;
  key: string;
  /** Set for a generated certificate: the file a client can pin as its CA. */
  selfSignedFile?: string;
}

/** The configured certificate, or a self-signed one for 127.0.0.1 and localhost kept in dataDir/tls. */
export async function tlsMaterial(dataDir: string, cert?: string, key?: string): Promise<TlsMaterial> {
  if (cert && key) return { cert: readFileSync(cert, 'utf8'), key: readFileSync(key, 'utf8') };
  const certFile = path.join(dataDir, 'tls', 'self-signed.pem');
  const keyFile = path.join(dataDir, 'tls', 'self-signed.key');
  const existing = readIfExists(certFile);
  const existingKey = readIfExists(keyFile);
  if (existing && existingKey) return { cert: existing, key: existingKey, selfSignedFile: certFile };
  const { generate } = await import('selfsigned');
  const notAfterDate = new Date(Date.now() + 825 * 86_400_000);
  const pems = await generate([{ name: 'commonName', value: 'plantgate bridge (self-signed)' }], {
    keyType: 'ec',
    curve: 'P-256',
    algorithm: 'sha256',
    notAfterDate,
    extensions: [
      { name: 'basicConstraints', cA: false },
      { name: 'keyUsage', digitalSignature: true, keyEncipherment: true },
      { name: 'extKeyUsage', serverAuth: true },
      {
        name: 'subjectAltName',
        altNames: [
          { type: 2, value: 'localhost' },
          { type: 7, ip: '127.0.0.1' },
        ],
      },
    ],
  });
  writePrivate(keyFile, pems.private);
  writePrivate(certFile, pems.cert);
  return { cert: pems.cert, key: pems.private, selfSignedFile: certFile };
}
