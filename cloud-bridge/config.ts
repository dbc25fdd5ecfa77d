/** The bridge config (DESIGN.md, bridge.yaml): listener, state, the token issuers and the organisations. */
import path from 'node:path';
import { type Static, Type } from '@sinclair/typebox';
import {
  ConfigError,
  configError,
  deepFreeze,
  parseYamlMapping,
  readConfigText,
  validate,
} from '../gateway/api/index.ts';

const doc = (description: string) => ({ description });
const Principal = Type.String({
  pattern: '^(user|group):[^*?\\s]{1,256}$',
  ...doc('user:<oid-or-sub> or group:<id>.'),
});
const OrgId = '^[a-z0-9][a-z0-9_-]{0,62}$';
const LOOPBACK = new Set(['127.0.0.1', '::1', 'localhost']);

const Issuer = Type.Object(
  {
    issuer: Type.String({ minLength: 1, ...doc('The `iss` the tokens carry, exactly.') }),
    audience: Type.String({ minLength: 1, ...doc('The `aud` the tokens must carry.') }),
    jwksUri: Type.Optional(
      Type.String({ pattern: '^https?://', ...doc('Where the signing keys are published.') }),
    ),
    jwksFile: Type.Optional(
      Type.String({ minLength: 1, ...doc('A JWKS file instead (tests, demo, offline).') }),
    ),
    organisation: Type.String({
      pattern: OrgId,
      ...doc('The organisation whose users this issuer signs in.'),
    }),
    grantsGlobalAdmin: Type.Optional(
      Type.Boolean({
        ...doc(
          "Whether this issuer's globalAdmin role (roles claim) makes a global admin: only for the operator's own provider, never an organisation's. Default false.",
        ),
      }),
    ),
  },
  { additionalProperties: false },
);

const Organisation = Type.Object(
  {
    admins: Type.Array(Principal, {
      default: [],
      ...doc('Org admins: allow apps, enroll gateways, read audit.'),
    }),
    developers: Type.Array(Principal, {
      default: [],
      ...doc("Developers: register the organisation's apps."),
    }),
    appPolicy: Type.Union([Type.Literal('allowListed'), Type.Literal('open')], {
      default: 'allowListed',
      ...doc('allowListed: only apps an org admin allowed; open: any app.'),
    }),
    allowedApps: Type.Array(Type.String({ minLength: 1, maxLength: 256 }), {
      default: [],
      ...doc('Seeds the allow list (client ids); admins change it at the bridge.'),
    }),
  },
  { additionalProperties: false },
);

export const BridgeConfigSchema = Type.Object(
  {
    bridge: Type.Object(
      {
        listen: Type.Object(
          {
            host: Type.String({ default: '0.0.0.0' }),
            port: Type.Integer({ minimum: 0, maximum: 65535, default: 443 }),
            cert: Type.Optional(
              Type.String({ minLength: 1, ...doc('PEM certificate chain; none: self-signed.') }),
            ),
            key: Type.Optional(Type.String({ minLength: 1, ...doc('PEM private key of the certificate.') })),
          },
          { additionalProperties: false, default: {} },
        ),
        dataDir: Type.String({
          minLength: 1,
          ...doc('State, keys and the generated certificate; relative to this file.'),
        }),
        store: Type.Literal('sqlite', { default: 'sqlite', ...doc('Where the bridge keeps its state.') }),
        broker: Type.Literal('embedded', { default: 'embedded', ...doc('The MQTT broker of the link.') }),
      },
      { additionalProperties: false },
    ),
    auth: Type.Object(
      {
        clientId: Type.String({
          minLength: 1,
          ...doc("The bridge's own client id (consent is given only with it)."),
        }),
        sessionHours: Type.Number({
          minimum: 0.1,
          maximum: 8760,
          default: 12,
          ...doc(
            'A token whose sign-in (auth_time) is older serves only apps consented with offline access.',
          ),
        }),
        issuers: Type.Array(Issuer, { default: [] }),
        globalAdmins: Type.Array(
          Type.Object(
            {
              organisation: Type.String({
                pattern: OrgId,
                ...doc('The organisation whose issuer signs this person in.'),
              }),
              principal: Principal,
            },
            { additionalProperties: false },
          ),
          {
            default: [],
            ...doc(
              "Global admins: org admin of every organisation. Only from this file, never from a token: an organisation's own provider must not reach the others.",
            ),
          },
        ),
        devIssuer: Type.Boolean({
          default: false,
          ...doc(
            'Run the development identity provider on loopback (demo accounts, in the first organisation) and trust it; refused unless the bridge listens on loopback.',
          ),
        }),
        session: Type.Object(
          {
            idleMinutes: Type.Number({
              minimum: 0.1,
              maximum: 1440,
              default: 30,
              ...doc('A signed-in session ends after this long without a request.'),
            }),
            lifetimeHours: Type.Number({
              minimum: 0.1,
              maximum: 168,
              default: 12,
              ...doc('A signed-in session ends this long after sign-in, however active.'),
            }),
          },
          { additionalProperties: false, default: {} },
        ),
      },
      { additionalProperties: false },
    ),
    organisations: Type.Record(Type.String({ pattern: OrgId }), Organisation, { default: {} }),
  },
  { additionalProperties: false },
);

export type BridgeConfig = Static<typeof BridgeConfigSchema> & { readonly file: string };
export type IssuerConfig = Static<typeof Issuer>;
export type OrganisationConfig = Static<typeof Organisation>;

export async function parseBridgeConfig(text: string, file: string): Promise<BridgeConfig> {
  const data = parseYamlMapping(text, file, 'bridge:, auth:, organisations:');
  const problems = validate(BridgeConfigSchema, data);
  const config = data as unknown as BridgeConfig;
  if (!problems.length) {
    config.auth.issuers.forEach((issuer, i) => {
      if ((issuer.jwksUri === undefined) === (issuer.jwksFile === undefined))
        problems.push({
          pointer: `/auth/issuers/${i}`,
          message: 'needs exactly one of jwksUri and jwksFile',
        });
      if (!Object.hasOwn(config.organisations, issuer.organisation))
        problems.push({
          pointer: `/auth/issuers/${i}/organisation`,
          message: `no organisation "${issuer.organisation}" under organisations:`,
        });
    });
    config.auth.globalAdmins.forEach((admin, i) => {
      if (!Object.hasOwn(config.organisations, admin.organisation))
        problems.push({
          pointer: `/auth/globalAdmins/${i}/organisation`,
          message: `no organisation "${admin.organisation}" under organisations:`,
        });
    });
    if (!config.auth.issuers.length && !config.auth.devIssuer)
      problems.push({ pointer: '/auth/issuers', message: 'needs at least one issuer (or devIssuer: true)' });
    if (config.auth.devIssuer && !LOOPBACK.has(config.bridge.listen.host))
      problems.push({
        pointer: '/auth/devIssuer',
        message: `the development identity provider is only for a bridge on loopback, not one listening on ${config.bridge.listen.host}`,
      });
    if (config.auth.devIssuer && !Object.keys(config.organisations).length)
      problems.push({ pointer: '/auth/devIssuer', message: 'needs an organisation for its demo accounts' });
    const { cert, key } = config.bridge.listen;
    if ((cert === undefined) !== (key === undefined))
      problems.push({ pointer: '/bridge/listen', message: 'cert and key go together' });
  }
  if (problems.length) throw await configError(text, file, problems);
  const base = path.dirname(path.resolve(file));
  const resolve = (p: string | undefined) => (p === undefined ? undefined : path.resolve(base, p));
  const listen = config.bridge.listen;
  return deepFreeze({
    ...config,
    bridge: {
      ...config.bridge,
      dataDir: path.resolve(base, config.bridge.dataDir),
      listen: { ...listen, ...(listen.cert ? { cert: resolve(listen.cert), key: resolve(listen.key) } : {}) },
    },
    auth: {
      ...config.auth,
      issuers: config.auth.issuers.map((i) => (i.jwksFile ? { ...i, jwksFile: resolve(i.jwksFile) } : i)),
    },
    file: path.resolve(file),
  }) as BridgeConfig;
}

export async function loadBridgeConfig(file: string): Promise<BridgeConfig> {
  return parseBridgeConfig(await readConfigText(file), file);
}

export { ConfigError };
