/**
 * The OPC UA packaging-line simulator: node-opcua's own server with every security mode and policy the
 * gateway speaks, a user name and password, X.509 user certificates trusted from its user PKI, history
 * on a few variables and the standard aggregates. Its certificates live under `pkiDir`.
 */
import { createHash } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { addAggregateSupport } from 'node-opcua-aggregates';
import { OPCUACertificateManager } from 'node-opcua-certificate-manager';
import { DataType, MessageSecurityMode, SecurityPolicy, Variant } from 'node-opcua-client';
import { OPCUAServer, type ServerCapabilitiesOptions } from 'node-opcua-server';
import { installReadAtTime } from './at-time-history.ts';
import { buildPackagingLine, type PackagingLine } from './packaging-line.ts';

export const SIMULATOR_USER = { username: 'operator', password: 'plantgate-demo' };

export interface OpcuaSimulatorOptions {
  port?: number;
  host?: string;
  /** Where the server keeps its own certificate, the clients it trusts and those it rejected. */
  pkiDir: string;
  /** Accept any client certificate (the demo); tests trust the gateway's certificate explicitly. */
  acceptAnyClient?: boolean;
  allowAnonymous?: boolean;
  tickMs?: number;
  benchItems?: number;
  operationLimits?: ServerCapabilitiesOptions['operationLimits'];
}

export interface OpcuaSimulator {
  port: number;
  endpoint: string;
  /** SHA-1 thumbprint (hex, upper case) of the server's application certificate. */
  thumbprint: string;
  certificateFile: string;
  line: PackagingLine;
  server: OPCUAServer;
  stop(): Promise<void>;
}

export async function startOpcuaSimulator(options: OpcuaSimulatorOptions): Promise<OpcuaSimulator> {
  mkdirSync(options.pkiDir, { recursive: true });
  const serverCertificateManager = new OPCUACertificateManager({
    rootFolder: path.join(options.pkiDir, 'server'),
    automaticallyAcceptUnknownCertificate: options.acceptAnyClient ?? false,
  });
  const userCertificateManager = new OPCUACertificateManager({
    rootFolder: path.join(options.pkiDir, 'user'),
    automaticallyAcceptUnknownCertificate: false,
  });
  await serverCertificateManager.initialize();
  await userCertificateManager.initialize();
  const host = options.host ?? '127.0.0.1';
  const server = new OPCUAServer({
    port: options.port ?? 4840,
    hostname: host,
    alternateHostname: [host],
    resourcePath: '/plantgate/line',
    serverCertificateManager,
    userCertificateManager,
    certificateFile: path.join(options.pkiDir, 'server', 'own', 'certs', 'server_certificate.pem'),
    privateKeyFile: path.join(options.pkiDir, 'server', 'own', 'private', 'private_key.pem'),
    securityModes: [MessageSecurityMode.None, MessageSecurityMode.Sign, MessageSecurityMode.SignAndEncrypt],
    securityPolicies: [
      SecurityPolicy.None,
      SecurityPolicy.Basic256Sha256,
      SecurityPolicy.Aes128_Sha256_RsaOaep,
      SecurityPolicy.Aes256_Sha256_RsaPss,
    ],
    allowAnonymous: options.allowAnonymous ?? true,
    userManager: {
      isValidUser: (username: string, password: string) =>
        username === SIMULATOR_USER.username && password === SIMULATOR_USER.password,
    },
    isAuditing: false,
    serverCapabilities: {
      maxSessions: 50,
      ...(options.operationLimits ? { operationLimits: options.operationLimits } : {}),
    },
    buildInfo: { productName: 'plantgate packaging-line simulator', manufacturerName: 'plantgate' },
    serverInfo: { applicationName: { text: 'plantgate packaging-line simulator' } },
  });
  await server.initialize();
  const addressSpace = server.engine.addressSpace!;
  addAggregateSupport(addressSpace);
  const line = buildPackagingLine(addressSpace.getOwnNamespace(), { benchItems: options.benchItems });
  for (const v of line.historized) installReadAtTime(v);
  // How many sessions clients opened since this server started: a reconnecting client should add one.
  let sessionsCreated = 0;
  const sessions = addressSpace.getOwnNamespace().addVariable({
    organizedBy: addressSpace.rootFolder.objects,
    nodeId: 's=Simulator.SessionsCreated',
    browseName: 'SessionsCreated',
    dataType: 'UInt32',
    accessLevel: 'CurrentRead',
    userAccessLevel: 'CurrentRead',
    value: { get: () => new Variant({ dataType: DataType.UInt32, value: sessionsCreated }) },
  });
  server.on('create_session', () => {
    sessionsCreated++;
    sessions.touchValue();
  });
  await server.start();
  const timer = setInterval(line.step, options.tickMs ?? 1000);
  line.step();
  const endpoint = server.getEndpointUrl();
  const certificate = server.getCertificate();
  return {
    port: Number(new URL(endpoint.replace('opc.tcp:', 'http:')).port),
    endpoint,
    thumbprint: createHash('sha1').update(certificate).digest('hex').toUpperCase(),
    certificateFile: path.join(options.pkiDir, 'server', 'own', 'certs', 'server_certificate.pem'),
    line,
    server,
    async stop() {
      clearInterval(timer);
      await server.shutdown(0);
    },
  };
}
