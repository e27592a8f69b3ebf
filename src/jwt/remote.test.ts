import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { createServer } from 'node:http';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import {
  createRemoteJwks,
  createRemoteVerifier,
  createSigner,
  exportJwk,
  generateKey,
  JwksFetchError,
  JwksKeyNotFoundError,
  JwsSignatureInvalidError,
  JwtOptionsError,
} from './index.js';
import type { ExportedJwk } from './index.js';

type Handler = (req: IncomingMessage, res: ServerResponse) => void;
let server: Server;
let base = '';
let handler: Handler = (_req, res) => res.end('{}');
const hits: string[] = [];

before(async () => {
  server = createServer((req, res) => {
    hits.push(req.url ?? '');
    handler(req, res);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
after(() => {
  server.closeAllConnections();
  server.close();
});

function serve(keys: unknown[]): void {
  handler = (_req, res) => {
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify({ keys }));
  };
}
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

const edA = generateKey('EdDSA', { kid: 'a' });
const edB = generateKey('EdDSA', { kid: 'b' });
const es = generateKey('ES256', { kid: 'es' });
const claims = { sub: 'u', exp: Math.floor(Date.now() / 1000) + 300 };

describe('createRemoteJwks', () => {
  it('fetches once, then serves keys from its cache', async () => {
    serve([exportJwk(edA)]);
    hits.length = 0;
    const jwks = createRemoteJwks(`${base}/jwks`);
    assert.equal((await jwks.getKey('a', 'EdDSA')).kid, 'a');
    assert.equal((await jwks.getKey('a', 'EdDSA')).kid, 'a');
    assert.equal(hits.length, 1);
  });

  it('refetches for an unknown kid, at most once per cooldown', async (t) => {
    // The wall clock stands still unless moved, so a slow machine cannot carry the test past the cooldown.
    let now = Date.now();
    t.mock.method(Date, 'now', () => now);
    serve([exportJwk(edA)]);
    hits.length = 0;
    const jwks = createRemoteJwks(`${base}/jwks`, { cooldown: 200 });
    await jwks.getKey('a', 'EdDSA');
    now += 199;
    await assert.rejects(jwks.getKey('b', 'EdDSA'), JwksKeyNotFoundError);
    assert.equal(hits.length, 1, 'still inside the cooldown');
    serve([exportJwk(edA), exportJwk(edB)]);
    now += 1;
    assert.equal((await jwks.getKey('b', 'EdDSA')).kid, 'b');
    assert.equal(hits.length, 2);
    await assert.rejects(jwks.getKey('zzz', 'EdDSA'), JwksKeyNotFoundError);
    assert.equal(hits.length, 2);
  });

  it('refetches once the document is older than cacheMaxAge', async () => {
    serve([exportJwk(edA)]);
    hits.length = 0;
    const jwks = createRemoteJwks(`${base}/jwks`, { cacheMaxAge: 50, cooldown: 0 });
    await jwks.getKey('a', 'EdDSA');
    await sleep(70);
    await jwks.getKey('a', 'EdDSA');
    assert.equal(hits.length, 2);
  });

  it('binds a key only to the alg it names, or — without alg — to an alg its type and curve fit', async () => {
    const { alg: _alg, ...noAlg } = exportJwk(es);
    serve([exportJwk(edA), noAlg]);
    const jwks = createRemoteJwks(`${base}/jwks`, { cooldown: 0 });
    assert.equal((await jwks.getKey('es', 'ES256')).alg, 'ES256');
    await assert.rejects(jwks.getKey('es', 'ES384'), JwksKeyNotFoundError);
    await assert.rejects(jwks.getKey('a', 'ES256'), JwksKeyNotFoundError);
  });

  it('skips encryption keys, private keys, secrets and RSA keys under 2048 bits', async () => {
    const weak = generateKeyPairSync('rsa', { modulusLength: 1024 }).publicKey.export({ format: 'jwk' });
    serve([
      { ...exportJwk(edA), use: 'enc' },
      exportJwk(edB, { private: true }),
      { kty: 'oct', k: Buffer.alloc(32).toString('base64url'), alg: 'HS256', kid: 'hs' },
      { ...weak, alg: 'RS256', kid: 'weak' },
      'not a key',
    ]);
    const jwks = createRemoteJwks(`${base}/jwks`, { cooldown: 0 });
    await assert.rejects(jwks.getKey('a', 'EdDSA'), JwksKeyNotFoundError);
    await assert.rejects(jwks.getKey('b', 'EdDSA'), JwksKeyNotFoundError);
    await assert.rejects(jwks.getKey('hs', 'HS256'), JwksKeyNotFoundError);
    await assert.rejects(jwks.getKey('weak', 'RS256'), JwksKeyNotFoundError);
  });

  it('fails with JwksFetchError on an error status, bad JSON, a redirect or a timeout', async () => {
    const cases: Handler[] = [
      (_req, res) => { res.statusCode = 500; res.end('{}'); },
      (_req, res) => res.end('not json'),
      (_req, res) => res.end('{"keys":{}}'),
      (_req, res) => { res.statusCode = 302; res.setHeader('location', `${base}/elsewhere`); res.end(); },
      () => undefined,
    ];
    for (const h of cases) {
      handler = h;
      const jwks = createRemoteJwks(`${base}/jwks`, { timeout: 150 });
      await assert.rejects(jwks.getKey('a', 'EdDSA'), JwksFetchError);
    }
    assert.ok(!hits.includes('/elsewhere'), 'redirects are not followed');
  });

  it('keeps the previous keys when a refetch fails', async () => {
    serve([exportJwk(edA)]);
    const jwks = createRemoteJwks(`${base}/jwks`, { cacheMaxAge: 1, cooldown: 0 });
    await jwks.getKey('a', 'EdDSA');
    handler = (_req, res) => { res.statusCode = 503; res.end(); };
    await sleep(5);
    assert.equal((await jwks.getKey('a', 'EdDSA')).kid, 'a');
  });

  it('refuses plain http except on loopback, and unknown options', () => {
    assert.throws(() => createRemoteJwks('http://issuer.example/jwks'), JwtOptionsError);
    assert.throws(() => createRemoteJwks('ftp://127.0.0.1/jwks'), JwtOptionsError);
    assert.throws(() => createRemoteJwks('not a url'), JwtOptionsError);
    assert.throws(() => createRemoteJwks('https://issuer.example/jwks', { ttl: 5 } as never), JwtOptionsError);
    createRemoteJwks('https://issuer.example/jwks');
  });
});

describe('createRemoteVerifier', () => {
  it('verifies tokens against the remote keys and never fetches jku or x5u', async () => {
    serve([exportJwk(edA)]);
    hits.length = 0;
    const verify = createRemoteVerifier({ jwks: `${base}/jwks`, algorithms: ['EdDSA'], typ: 'JWT' });
    assert.equal((await verify(createSigner({ key: edA })(claims))).sub, 'u');
    const attacker = generateKey('EdDSA', { kid: 'a' });
    const { signJws } = await import('./index.js');
    const forged = signJws(JSON.stringify(claims), attacker, { typ: 'JWT', jku: `${base}/attacker`, x5u: `${base}/x5u`, jwk: exportJwk(attacker) as ExportedJwk });
    await assert.rejects(verify(forged), JwsSignatureInvalidError);
    assert.deepEqual(hits, ['/jwks']);
  });

  it('empties its token cache when the key set changes', async () => {
    serve([exportJwk(edA)]);
    const jwks = createRemoteJwks(`${base}/jwks`, { cooldown: 0 });
    const verify = createRemoteVerifier({ jwks, algorithms: ['EdDSA'], cache: { max: 10 } });
    const token = createSigner({ key: edA })(claims);
    const first = await verify(token);
    assert.equal(await verify(token), first, 'cached');
    serve([exportJwk(edB)]);
    await jwks.reload();
    await assert.rejects(verify(token), JwksKeyNotFoundError, 'the removed key no longer validates a cached token');
  });

  it('checks its options at creation', () => {
    assert.throws(() => createRemoteVerifier({ jwks: `${base}/jwks`, algorithms: [] }), JwtOptionsError);
    assert.throws(() => createRemoteVerifier({ jwks: `${base}/jwks`, algorithms: ['EdDSA'], keys: [] } as never), JwtOptionsError);
    assert.throws(() => createRemoteVerifier({ jwks: `${base}/jwks`, algorithms: ['EdDSA'], leeway: 600 }), JwtOptionsError);
  });
});
