/**
 * The gateway's OPC UA certificate store (`dataDir/pki`, node-opcua's layout): its own application
 * certificate, the server certificates it trusts, and those it rejected until an administrator trusts
 * them. Thumbprints are SHA-1 of the DER certificate, in upper-case hex, as OPC UA tools show them.
 */
import { X509Certificate } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync } from 'node:fs';
import path from 'node:path';
import { PlantgateError } from '../core/index.ts';

export interface CertificateFacts {
  subject: string;
  thumbprint: string;
  notBefore: string;
  notAfter: string;
  daysLeft: number;
  file?: string;
}

export const ownCertificateFile = (pkiDir: string) =>
  path.join(pkiDir, 'own', 'certs', 'client_certificate.pem');

export function certificateFacts(source: string | Buffer, now = Date.now()): CertificateFacts | undefined {
  if (typeof source === 'string' && !existsSync(source)) return undefined;
  const certificate = new X509Certificate(typeof source === 'string' ? readFileSync(source) : source);
  const notAfter = new Date(certificate.validTo);
  return {
    subject: certificate.subject.replace(/\n/g, ', '),
    thumbprint: certificate.fingerprint.replace(/:/g, '').toUpperCase(),
    notBefore: new Date(certificate.validFrom).toISOString(),
    notAfter: notAfter.toISOString(),
    daysLeft: Math.floor((notAfter.getTime() - now) / 86_400_000),
    ...(typeof source === 'string' ? { file: source } : {}),
  };
}

function certificatesIn(dir: string): CertificateFacts[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((name) => /\.(pem|der|crt)$/i.test(name))
    .flatMap((name) => {
      try {
        const facts = certificateFacts(path.join(dir, name));
        return facts ? [facts] : [];
      } catch {
        return [];
      }
    });
}

export function listCertificates(pkiDir: string): {
  own?: CertificateFacts;
  trusted: CertificateFacts[];
  rejected: CertificateFacts[];
} {
  return {
    own: certificateFacts(ownCertificateFile(pkiDir)),
    trusted: certificatesIn(path.join(pkiDir, 'trusted', 'certs')),
    rejected: certificatesIn(path.join(pkiDir, 'rejected')),
  };
}

/** Moves a trusted server certificate back among the rejected: the next connection to it is refused. */
export function rejectTrusted(pkiDir: string, thumbprint: string): CertificateFacts {
  const wanted = thumbprint.replace(/[\s:]/g, '').toUpperCase();
  const found = listCertificates(pkiDir).trusted.find((c) => c.thumbprint === wanted);
  if (!found)
    throw new PlantgateError('PG_ERR_BAD_SETTINGS', `no trusted certificate ${wanted} in ${pkiDir}`);
  const target = path.join(pkiDir, 'rejected');
  mkdirSync(target, { recursive: true });
  const to = path.join(target, path.basename(found.file!));
  renameSync(found.file!, to);
  return { ...found, file: to };
}

/** Moves a rejected server certificate into the trusted store; the next connect attempt accepts it. */
export function trustRejected(pkiDir: string, thumbprint: string): CertificateFacts {
  const wanted = thumbprint.replace(/[\s:]/g, '').toUpperCase();
  if (!/^[0-9A-F]{40}$/.test(wanted)) {
    throw new PlantgateError(
      'PG_ERR_BAD_SETTINGS',
      `${thumbprint} is not a certificate thumbprint (40 hex digits)`,
    );
  }
  const { rejected, trusted } = listCertificates(pkiDir);
  if (trusted.some((c) => c.thumbprint === wanted)) return trusted.find((c) => c.thumbprint === wanted)!;
  const found = rejected.find((c) => c.thumbprint === wanted);
  if (!found) {
    const known = rejected.map((c) => `${c.thumbprint} (${c.subject})`).join('; ') || 'none';
    throw new Error(`no rejected certificate ${wanted} in ${pkiDir}; rejected: ${known}`);
  }
  const target = path.join(pkiDir, 'trusted', 'certs');
  mkdirSync(target, { recursive: true });
  const to = path.join(target, path.basename(found.file!));
  renameSync(found.file!, to);
  return { ...found, file: to };
}
