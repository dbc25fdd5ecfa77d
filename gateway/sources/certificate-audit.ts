/**
 * Changes to the OPC UA certificate store are security decisions: a server certificate the gateway
 * rejected (waiting for an administrator), one an administrator trusted (`plantgate opcua trust`, or a
 * file copied in), one no longer trusted. The running gateway looks at the store every two seconds and
 * writes each change to the audit log, since the command that makes it runs beside the gateway.
 */
import path from 'node:path';
import { listCertificates } from '../../drivers/opcua/index.ts';
import type { AuditEvent } from '../audit/record.ts';

const EVERY_MS = 2000;

export function auditCertificateStore(dataDir: string, note: (event: AuditEvent) => void): () => void {
  const pkiDir = path.join(dataDir, 'pki');
  const read = () => {
    const { trusted, rejected } = listCertificates(pkiDir);
    return {
      trusted: new Map(trusted.map((c) => [c.thumbprint, c.subject])),
      rejected: new Map(rejected.map((c) => [c.thumbprint, c.subject])),
    };
  };
  let last = read();
  const timer = setInterval(() => {
    let next: typeof last;
    try {
      next = read();
    } catch {
      return; // a file half-written by the store: look again next time
    }
    const say = (detail: string) => note({ kind: 'admin', outcome: 'ok', detail });
    for (const [thumbprint, subject] of next.trusted)
      if (!last.trusted.has(thumbprint)) say(`OPC UA server certificate trusted: ${thumbprint} (${subject})`);
    for (const [thumbprint, subject] of last.trusted)
      if (!next.trusted.has(thumbprint))
        say(`OPC UA server certificate no longer trusted: ${thumbprint} (${subject})`);
    for (const [thumbprint, subject] of next.rejected)
      if (!last.rejected.has(thumbprint) && !next.trusted.has(thumbprint))
        say(`OPC UA server certificate rejected, waiting for an administrator: ${thumbprint} (${subject})`);
    last = next;
  }, EVERY_MS);
  timer.unref();
  return () => clearInterval(timer);
}
