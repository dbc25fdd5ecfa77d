/**
 * A development token issuer for the demo and the tests: an ES256 key pair whose public half is written
 * as a JWKS file the bridge config can name, and a function that signs tokens as an OpenID Connect
 * provider would. Never for production: production tokens come from the organisation's provider.
 */
import { writeFileSync } from 'node:fs';
import { exportJWK, generateKeyPair, type JWTPayload, SignJWT } from 'jose';

export interface DevIssuer {
  issuer: string;
  audience: string;
  jwksFile: string;
  /** A signed token; claims override the defaults (sub, azp, a 1 h expiry). */
  mint(claims: JWTPayload & { sub: string; azp: string }, options?: { expiresIn?: string }): Promise<string>;
}

export async function createDevIssuer(
  jwksFile: string,
  issuer = 'https://idp.test',
  audience = 'api://plantgate',
): Promise<DevIssuer> {
  const { publicKey, privateKey } = await generateKeyPair('ES256', { extractable: true });
  const kid = `dev-${Date.now().toString(36)}`;
  const jwk = { ...(await exportJWK(publicKey)), kid, alg: 'ES256', use: 'sig' };
  writeFileSync(jwksFile, `${JSON.stringify({ keys: [jwk] }, null, 2)}\n`);
  return {
    issuer,
    audience,
    jwksFile,
    mint: (claims, options = {}) => {
      const token = new SignJWT({
        auth_time: Math.floor(Date.now() / 1000),
        iss: issuer,
        aud: audience,
        ...claims,
      })
        .setProtectedHeader({ alg: 'ES256', kid, typ: 'JWT' })
        .setIssuedAt();
      if (claims.exp === undefined) token.setExpirationTime(options.expiresIn ?? '1h');
      return token.sign(privateKey);
    },
  };
}
