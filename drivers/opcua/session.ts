/**
 * One client, one secure channel and one session per source. node-opcua's own reconnection is the one
 * reconnect loop (jittered, doubling back-off); after a server restart it opens a new session and
 * transfers or re-creates the subscriptions (OPC 10000-4 §6.7). Nothing else here opens sessions.
 */
import { X509Certificate } from 'node:crypto';
import { existsSync, readFileSync, statSync } from 'node:fs';
import os from 'node:os';
import { OPCUACertificateManager } from 'node-opcua-certificate-manager';
import {
  type ClientSession,
  MessageSecurityMode,
  OPCUAClient,
  SecurityPolicy,
  setErrorLogger,
  setWarningLogger,
  type UserIdentityInfo,
  UserTokenType,
} from 'node-opcua-client';
import { type Logger, PlantgateError } from '../core/index.ts';
import { type CertificateFacts, certificateFacts, ownCertificateFile } from './pki.ts';
import type { OpcuaSettings } from './settings.ts';

/**
 * node-opcua prints its warnings and errors to the console, several lines each (certificate dumps,
 * retry notices). They go to the log of an open source instead: warnings at debug level, since the
 * driver reports what matters itself; errors at warn level.
 */
const libraryLogs = new Set<Logger>();
const forward =
  (level: 'debug' | 'warn') =>
  (...args: unknown[]) => {
    const log = libraryLogs.values().next().value;
    const text = args
      .map((a) => (typeof a === 'string' ? a : String(a)))
      .join(' ')
      .slice(0, 2000);
    log?.[level](`node-opcua: ${text}`);
  };
setWarningLogger(forward('debug'));
setErrorLogger(forward('warn'));

export interface SessionStats {
  connected: boolean;
  sessionsCreated: number;
  reconnects: number;
  lastError?: string;
}

function identity(settings: OpcuaSettings): UserIdentityInfo {
  if (settings.user) {
    return {
      type: UserTokenType.UserName,
      userName: settings.user.username,
      password: settings.user.password,
    };
  }
  if (settings.certificate) {
    const { certificateFile, privateKeyFile } = settings.certificate;
    if (process.platform !== 'win32' && (statSync(privateKeyFile).mode & 0o077) !== 0) {
      throw new PlantgateError(
        'PG_ERR_BAD_SETTINGS',
        `settings.certificate.privateKeyFile ${privateKeyFile} is readable by other users; chmod 600 it`,
      );
    }
    return {
      type: UserTokenType.Certificate,
      certificateData: new X509Certificate(readFileSync(certificateFile)).raw,
      privateKey: readFileSync(privateKeyFile, 'utf8'),
    };
  }
  return { type: UserTokenType.Anonymous };
}

export class OpcuaSession {
  readonly stats: SessionStats = { connected: false, sessionsCreated: 0, reconnects: 0 };
  private client: OPCUAClient | undefined;
  private current: ClientSession | undefined;
  private ownFacts: CertificateFacts | undefined;
  private serverFacts: CertificateFacts | undefined;
  private certificateManager: OPCUACertificateManager | undefined;
  private readonly settings: OpcuaSettings;
  private readonly pkiDir: string;
  private readonly log: Logger;
  /** Called when the connection drops (node-opcua then reconnects by itself). */
  onLost: () => void = () => undefined;

  constructor(settings: OpcuaSettings, pkiDir: string, log: Logger) {
    this.settings = settings;
    this.pkiDir = pkiDir;
    this.log = log;
  }

  get session(): ClientSession {
    if (!this.current || !this.stats.connected) {
      throw new PlantgateError(
        'PG_ERR_SOURCE_UNAVAILABLE',
        `not connected to ${this.settings.endpoint}${this.stats.lastError ? `: ${this.stats.lastError}` : ''}`,
      );
    }
    return this.current;
  }

  /** Connects and opens the session; throws (with the reason) if the server cannot be reached or trusted. */
  async open(): Promise<void> {
    const s = this.settings;
    const certificateManager = new OPCUACertificateManager({
      rootFolder: this.pkiDir,
      automaticallyAcceptUnknownCertificate: false,
    });
    await certificateManager.initialize();
    this.certificateManager = certificateManager;
    libraryLogs.add(this.log);
    const mode = MessageSecurityMode[s.securityMode];
    const applicationUri = `urn:${os.hostname()}:plantgate`;
    const client = OPCUAClient.create({
      applicationName: 'plantgate',
      applicationUri,
      clientName: 'plantgate',
      clientCertificateManager: certificateManager,
      securityMode: mode,
      securityPolicy: s.securityMode === 'None' ? SecurityPolicy.None : SecurityPolicy[s.securityPolicy],
      endpointMustExist: false,
      keepSessionAlive: true,
      requestedSessionTimeout: s.sessionTimeoutMs,
      defaultTransactionTimeout: s.requestTimeoutMs,
      // maxRetry 1 fails a first connect quickly (the source retries it with back-off); once connected,
      // node-opcua reconnects without end between these delays.
      connectionStrategy: {
        initialDelay: s.reconnectMinMs,
        maxDelay: s.reconnectMaxMs,
        maxRetry: 1,
        randomisationFactor: 0.2,
      },
    });
    this.client = client;
    await ensureOwnCertificate(certificateManager, this.pkiDir, applicationUri);
    client.on('connection_lost', () => {
      this.stats.connected = false;
      this.stats.lastError = 'connection lost; reconnecting';
      this.log.warn('OPC UA connection lost; reconnecting', { endpoint: s.endpoint });
      this.onLost();
    });
    client.on('backoff', (count: number, delay: number) => {
      this.log.debug('OPC UA reconnect attempt', { attempt: count, nextInMs: delay });
    });
    client.on('after_reconnection', (error?: Error | null) => {
      if (error) {
        this.stats.lastError = error.message;
        return;
      }
      this.stats.reconnects++;
      this.stats.connected = true;
      this.stats.lastError = undefined;
      this.log.info('OPC UA session restored', { endpoint: s.endpoint });
    });
    try {
      await client.connect(s.endpoint);
      const session = await client.createSession(identity(s));
      this.stats.sessionsCreated++;
      session.on('session_restored', () => this.stats.sessionsCreated++);
      this.current = session;
      const serverCertificate = client.serverCertificate as Buffer | undefined;
      this.serverFacts = serverCertificate ? certificateFacts(serverCertificate) : undefined;
      this.ownFacts = certificateFacts(ownCertificateFile(this.pkiDir));
      this.stats.connected = true;
      this.stats.lastError = undefined;
    } catch (error) {
      await this.close();
      throw new PlantgateError('PG_ERR_SOURCE_UNAVAILABLE', explain(error as Error, s.endpoint, this.pkiDir));
    }
  }

  async close(): Promise<void> {
    const client = this.client;
    const session = this.current;
    const certificateManager = this.certificateManager;
    this.client = undefined;
    this.current = undefined;
    this.certificateManager = undefined;
    this.stats.connected = false;
    await session?.close(true).catch(() => undefined);
    await client?.disconnect().catch(() => undefined);
    // The store watches its folders; a closed source must not keep those watchers.
    await certificateManager?.dispose().catch(() => undefined);
    libraryLogs.delete(this.log);
  }

  /** Both certificates' facts, read from their files once a session; the days left counted at each call. */
  certificates(): { own?: CertificateFacts; server?: CertificateFacts } {
    const now = Date.now();
    const days = (facts: CertificateFacts | undefined) =>
      facts && { ...facts, daysLeft: Math.floor((Date.parse(facts.notAfter) - now) / 86_400_000) };
    return {
      own: days(this.ownFacts),
      ...(this.serverFacts ? { server: days(this.serverFacts) } : {}),
    };
  }
}

/**
 * The gateway's application instance certificate (OPC 10000-6 §6.2.2), made on first start: self-signed,
 * for this host's name and the gateway's application URI, valid five years; health warns before it ends.
 */
async function ensureOwnCertificate(
  manager: OPCUACertificateManager,
  pkiDir: string,
  applicationUri: string,
): Promise<void> {
  const file = ownCertificateFile(pkiDir);
  if (existsSync(file)) return;
  await manager.createSelfSignedCertificate({
    applicationUri,
    dns: [os.hostname()],
    outputFile: file,
    subject: { commonName: `plantgate@${os.hostname()}`, organization: 'plantgate gateway' },
    startDate: new Date(),
    validity: 5 * 365,
  });
}

/** Turns node-opcua's connection errors into what an engineer can act on. */
function explain(error: Error, endpoint: string, pkiDir: string): string {
  const message = error.message.split('\n')[0] ?? error.message;
  if (/certificate verification failed/i.test(message)) {
    return `the server certificate of ${endpoint} is not trusted; it is kept in ${pkiDir}/rejected until an administrator trusts it (plantgate opcua certificates, then plantgate opcua trust THUMBPRINT)`;
  }
  if (/BadSecurityChecksFailed|BadCertificate/i.test(message)) {
    return `${endpoint} refused the gateway's certificate (${message}); the server's administrator must trust ${ownCertificateFile(pkiDir)}`;
  }
  if (/BadIdentityTokenRejected|BadUserAccessDenied|BadIdentityTokenInvalid/i.test(message)) {
    return `${endpoint} refused the session's identity (${message})`;
  }
  if (/cannot find endpoint|No endpoint/i.test(message)) {
    return `${endpoint} offers no endpoint with this securityMode and securityPolicy (${message})`;
  }
  return `cannot connect to ${endpoint}: ${message}`;
}
