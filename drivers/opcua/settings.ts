/** The OPC UA source's config: settings, tags and browsing. Every option's doc line lands in the schema. */
import { type Static, Type } from '@sinclair/typebox';
import { OneOf } from '../core/index.ts';

const doc = (description: string) => ({ description });

export const SECURITY_POLICIES = ['Basic256Sha256', 'Aes128_Sha256_RsaOaep', 'Aes256_Sha256_RsaPss'] as const;

const Deadband = Type.Object(
  {
    type: OneOf(['absolute', 'percent'], {
      ...doc(
        'absolute: in the value’s units; percent: of the EURange (OPC 10000-8 §6.2, analog items only).',
      ),
    }),
    value: Type.Number({ minimum: 0, ...doc('Change smaller than this is not reported.') }),
  },
  { additionalProperties: false, ...doc('Report a value only when it moved by more than this.') },
);

export const OpcuaSubscription = Type.Object(
  {
    publishingIntervalMs: Type.Integer({
      minimum: 50,
      maximum: 3600000,
      default: 1000,
      ...doc('How often the server sends the changes it collected.'),
    }),
    samplingIntervalMs: Type.Integer({
      minimum: 0,
      maximum: 3600000,
      default: 1000,
      ...doc('How often the server samples each item (0: as fast as the server can).'),
    }),
    queueSize: Type.Integer({
      minimum: 1,
      maximum: 10000,
      default: 10,
      ...doc('Samples the server keeps per item between two publishes; older ones are discarded.'),
    }),
    deadband: Type.Optional(Deadband),
  },
  { additionalProperties: false, default: {}, ...doc('Monitored items (mode subscribe).') },
);

const UserIdentity = Type.Object(
  {
    username: Type.String({ minLength: 1, ...doc('User name the session signs in with.') }),
    password: Type.String({
      minLength: 1,
      ...doc('Its password, sealed (enc:v1:…, plantgate secrets seal).'),
    }),
  },
  { additionalProperties: false, ...doc('User name and password identity.') },
);

const CertificateIdentity = Type.Object(
  {
    certificateFile: Type.String({
      minLength: 1,
      ...doc('PEM user certificate; relative to the config file.'),
    }),
    privateKeyFile: Type.String({
      minLength: 1,
      ...doc(
        'PEM private key of that certificate; relative to the config file; must not be readable by others.',
      ),
    }),
  },
  { additionalProperties: false, ...doc('X.509 user certificate identity.') },
);

export const OpcuaSettings = Type.Object(
  {
    endpoint: Type.String({
      pattern: '^opc\\.tcp://[^\\s/]+(/\\S*)?$',
      ...doc('Server endpoint, e.g. opc.tcp://10.0.0.7:4840.'),
    }),
    securityMode: OneOf(['SignAndEncrypt', 'Sign', 'None'], {
      default: 'SignAndEncrypt',
      ...doc('Message security; None only together with allowInsecure: true.'),
    }),
    securityPolicy: OneOf(SECURITY_POLICIES, {
      default: 'Basic256Sha256',
      ...doc('Security policy of the secure channel (ignored with securityMode None).'),
    }),
    allowInsecure: Type.Boolean({
      default: false,
      ...doc('Allow securityMode None: messages unsigned and in clear text on the plant network.'),
    }),
    user: Type.Optional(UserIdentity),
    certificate: Type.Optional(CertificateIdentity),
    mode: OneOf(['subscribe', 'poll'], {
      default: 'subscribe',
      ...doc('subscribe: values from monitored items; poll: the gateway reads every pollIntervalMs.'),
    }),
    subscription: OpcuaSubscription,
    pollIntervalMs: Type.Integer({
      minimum: 100,
      maximum: 3600000,
      default: 1000,
      ...doc('Read interval in mode poll.'),
    }),
    requestTimeoutMs: Type.Integer({
      minimum: 100,
      maximum: 600000,
      default: 10000,
      ...doc('Time to wait for the answer to one service call.'),
    }),
    sessionTimeoutMs: Type.Integer({
      minimum: 10000,
      maximum: 3600000,
      default: 60000,
      ...doc('Session lifetime the server keeps without traffic; the client keeps it alive.'),
    }),
    reconnectMinMs: Type.Integer({
      minimum: 100,
      maximum: 600000,
      default: 1000,
      ...doc('First wait before a reconnect; it doubles up to reconnectMaxMs.'),
    }),
    reconnectMaxMs: Type.Integer({
      minimum: 100,
      maximum: 3600000,
      default: 30000,
      ...doc('Longest wait between two reconnect attempts.'),
    }),
    historyPageSize: Type.Integer({
      minimum: 1,
      maximum: 100000,
      default: 1000,
      ...doc('Values asked for per HistoryRead call; the server sends the rest on continuation points.'),
    }),
    recordHistory: Type.Boolean({
      default: true,
      ...doc('Record values in local history, read for tags the server keeps no history of.'),
    }),
    certificateWarningDays: Type.Integer({
      minimum: 1,
      maximum: 365,
      default: 30,
      ...doc('health warns this many days before a certificate (own or the server’s) expires.'),
    }),
  },
  { additionalProperties: false },
);

export const OpcuaTagConfig = Type.Object(
  {
    name: Type.String({ minLength: 1, maxLength: 256, ...doc('Tag name, unique in the source.') }),
    id: Type.Optional(
      Type.String({ minLength: 1, maxLength: 256, ...doc('Stable id; defaults to the name.') }),
    ),
    nodeId: Type.String({
      pattern: '^(ns=\\d+;)?[isgb]=.+$',
      ...doc('Node id, e.g. ns=2;s=Line3.Speed or ns=3;i=1001.'),
    }),
    description: Type.Optional(
      Type.String({ maxLength: 1024, ...doc('Overrides the server’s description.') }),
    ),
    units: Type.Optional(Type.String({ maxLength: 64, ...doc('Overrides the server’s engineering units.') })),
    labels: Type.Array(Type.String({ minLength: 1, maxLength: 64 }), { default: [], ...doc('Labels.') }),
    writable: Type.Optional(
      Type.Boolean({ ...doc('Allow values.write; default: whether the server lets this session write it.') }),
    ),
    samplingIntervalMs: Type.Optional(
      Type.Integer({ minimum: 0, maximum: 3600000, ...doc('Overrides subscription.samplingIntervalMs.') }),
    ),
    deadband: Type.Optional(Deadband),
  },
  { additionalProperties: false },
);

export const OpcuaBrowse = Type.Object(
  {
    root: Type.String({
      pattern: '^(ns=\\d+;)?[isgb]=.+$',
      ...doc('Node to browse from, e.g. ns=2;s=Line3 (Objects is i=85).'),
    }),
    depth: Type.Integer({ minimum: 1, maximum: 10, default: 3, ...doc('Levels below root to follow.') }),
    nameFilter: Type.Optional(
      Type.String({ minLength: 1, ...doc('Keep variables whose name matches this pattern (* and ?).') }),
    ),
    maxTags: Type.Integer({
      minimum: 1,
      maximum: 100000,
      default: 10000,
      ...doc('Stop after this many variables, so a large server cannot swamp the gateway.'),
    }),
  },
  { additionalProperties: false, ...doc('Tags from the server’s address space, besides those listed.') },
);

export type OpcuaSettings = Static<typeof OpcuaSettings>;
export type OpcuaTagConfig = Static<typeof OpcuaTagConfig>;
export type OpcuaBrowse = Static<typeof OpcuaBrowse>;
