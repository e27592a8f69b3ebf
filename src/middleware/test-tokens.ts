/**
 * Test support: access tokens signed here with hush-auth/jwt, good and bad, shaped like the server's, and
 * a local JWKS endpoint. Not part of the build.
 */
import { randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createSigner, exportJwk, generateKey, importSecret, signJws, type JwtKey } from '../jwt/index.js';

export const SECRET = 'middleware-test-secret-0123456789-abcdefghij';
export const PREVIOUS_SECRET = 'middleware-previous-secret-0123456789-abcdef';
export const OTHER_SECRET = 'some-other-service-secret-0123456789-abcdefg';

/** Claims exactly as hush issues them, valid for ten minutes from now. */
export function accessClaims(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  const iat = Math.floor(Date.now() / 1000);
  const claims: Record<string, unknown> = {
    iss: 'hush',
    sub: randomUUID(),
    aud: 'hush',
    client_id: 'hush',
    iat,
    exp: iat + 600,
    jti: randomUUID(),
    sid: randomUUID(),
    preferred_username: 'ada',
    ver: 1,
    auth_time: iat,
    ...overrides,
  };
  for (const [name, value] of Object.entries(overrides)) if (value === undefined) delete claims[name];
  return claims;
}

function b64(value: unknown): string {
  return Buffer.from(JSON.stringify(value)).toString('base64url');
}

/** Signs `claims` as an access token (`typ: at+jwt`) with `key`. */
export function sign(key: JwtKey, claims: Record<string, unknown> = accessClaims()): string {
  return createSigner({ key, typ: 'at+jwt' })(claims);
}

/** Signs `claims` with `key` and an arbitrary header (no `typ` unless given). */
export function signWithHeader(key: JwtKey, header: Record<string, unknown>, claims: Record<string, unknown> = accessClaims()): string {
  return signJws(JSON.stringify(claims), key, header);
}

/** A token whose payload was changed after signing (the signature is the original one). */
export function tamper(token: string, changes: Record<string, unknown> = { preferred_username: 'admin' }): string {
  const [header, payload, signature] = token.split('.') as [string, string, string];
  const claims = JSON.parse(Buffer.from(payload, 'base64url').toString()) as Record<string, unknown>;
  return `${header}.${b64({ ...claims, ...changes })}.${signature}`;
}

/** An unsigned token (`alg: none`), as attackers send them. */
export function unsecured(claims: Record<string, unknown> = accessClaims()): string {
  return `${b64({ alg: 'none', typ: 'at+jwt' })}.${b64(claims)}.`;
}

/** A refresh token as the server shapes it (`typ: hush-rt+jwt`), signed with `key` — the worst case. */
export function refreshShaped(key: JwtKey): string {
  const iat = Math.floor(Date.now() / 1000);
  return signWithHeader(key, { typ: 'hush-rt+jwt' }, { sub: randomUUID(), sid: randomUUID(), auth_time: iat, iat, exp: iat + 3600 });
}

/** The HS256 key the tests' guards are given as `secret`. */
export const hsKey = (secret = SECRET): JwtKey => importSecret(secret, 'HS256');

/** Every token a guard must refuse with 401 `invalid_token`, by name, signed with `key` where they are signed at all. */
export function badTokens(key: JwtKey): Record<string, string> {
  const now = Math.floor(Date.now() / 1000);
  return {
    tampered: tamper(sign(key)),
    expired: sign(key, accessClaims({ iat: now - 700, exp: now - 100 })),
    'wrong audience': sign(key, accessClaims({ aud: 'other' })),
    'wrong audience in an array': sign(key, accessClaims({ aud: ['other', 'another'] })),
    'wrong issuer': sign(key, accessClaims({ iss: 'evil' })),
    'typ JWT': signWithHeader(key, { typ: 'JWT' }),
    'no typ': signWithHeader(key, {}),
    'alg none': unsecured(),
    'refresh-token-shaped': refreshShaped(key),
    'signed by another key': sign(key.key.type === 'secret' ? hsKey(OTHER_SECRET) : generateKey(key.alg as 'EdDSA')),
    'not yet valid': sign(key, accessClaims({ nbf: now + 300 })),
    'without exp': sign(key, accessClaims({ exp: undefined })),
    'without preferred_username': sign(key, accessClaims({ preferred_username: undefined })),
    'with a numeric sub': sign(key, accessClaims({ sub: 42 })),
    'with an empty sub': sign(key, accessClaims({ sub: '' })),
    'with a numeric sid': sign(key, accessClaims({ sid: 7 })),
    'with a numeric preferred_username': sign(key, accessClaims({ preferred_username: 7 })),
    'over 8 KiB': sign(key, accessClaims({ padding: 'x'.repeat(8192) })),
    'not a JWT': 'abc.def.ghi',
  };
}

/** A JWKS endpoint on loopback serving the public halves of `keys`; `down()` makes it answer 500. */
export async function startJwksServer(keys: readonly JwtKey[]): Promise<{ url: string; fetches(): number; down(): void; close(): Promise<void> }> {
  let failing = false;
  let fetches = 0;
  const document = JSON.stringify({ keys: keys.map((key) => exportJwk(key)) });
  const server: Server = createServer((_req, res) => {
    fetches++;
    if (failing) {
      res.writeHead(500).end();
      return;
    }
    res.writeHead(200, { 'content-type': 'application/json' }).end(document);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/.well-known/jwks.json`,
    fetches: () => fetches,
    down: () => {
      failing = true;
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
