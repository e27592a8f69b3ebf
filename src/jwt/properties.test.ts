/**
 * Property tests: random mutations of valid tokens are refused with hush's own errors and never
 * accepted; arbitrary input never escapes as a foreign exception or hangs; signing round-trips.
 */
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { createSigner, createVerifier, decode, generateKey, importSecret, JwtError, publicKey } from './index.js';
import type { JwtKey } from './index.js';
import { primitiveFor } from './primitives.js';

const now = Math.floor(Date.now() / 1000);
const claims = { iss: 'hush', aud: 'hush', sub: 'user-1', iat: now, exp: now + 600, jti: 'j-1' };
const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';

const hs = importSecret('p'.repeat(32), 'HS256', 'hs');
const ed = generateKey('EdDSA', { kid: 'ed' });
const es = generateKey('ES256', { kid: 'es' });
const setups = [hs, ed, es].map((key: JwtKey) => {
  const token = createSigner({ key, typ: 'at+jwt' })(claims);
  const options = { keys: key.key.type === 'secret' ? key : publicKey(key), algorithms: [key.alg], issuer: 'hush', audience: 'hush', typ: 'at+jwt' } as const;
  return { alg: key.alg, token, verify: createVerifier(options), cached: createVerifier({ ...options, cache: { max: 100 } }) };
});

/** One random edit of a token string. */
const mutation = fc.oneof(
  fc.record({ kind: fc.constant('replace' as const), at: fc.nat(), char: fc.constantFrom(...ALPHABET, '.', '=', '+', '/', ' ', '\u00e9', '\0') }),
  fc.record({ kind: fc.constant('insert' as const), at: fc.nat(), char: fc.constantFrom(...ALPHABET, '.', '=') }),
  fc.record({ kind: fc.constant('delete' as const), at: fc.nat() }),
  fc.record({ kind: fc.constant('truncate' as const), at: fc.nat() }),
  fc.record({ kind: fc.constant('flipBit' as const), segment: fc.integer({ min: 0, max: 2 }), at: fc.nat(), bit: fc.integer({ min: 0, max: 7 }) }),
  fc.record({ kind: fc.constant('swap' as const), a: fc.integer({ min: 0, max: 2 }), b: fc.integer({ min: 0, max: 2 }) }),
);
type Mutation = typeof mutation extends fc.Arbitrary<infer M> ? M : never;

function mutate(token: string, m: Mutation): string {
  const at = 'at' in m ? m.at % (token.length + 1) : 0;
  switch (m.kind) {
    case 'replace':
      return token.slice(0, at) + m.char + token.slice(at + 1);
    case 'insert':
      return token.slice(0, at) + m.char + token.slice(at);
    case 'delete':
      return token.slice(0, at) + token.slice(at + 1);
    case 'truncate':
      return token.slice(0, at);
    case 'flipBit': {
      const parts = token.split('.');
      if (parts[m.segment] === undefined) return token;
      const bytes = Buffer.from(parts[m.segment]!, 'base64url');
      if (bytes.length === 0) return token;
      bytes[m.at % bytes.length]! ^= 1 << m.bit;
      parts[m.segment] = bytes.toString('base64url');
      return parts.join('.');
    }
    case 'swap': {
      const parts = token.split('.');
      if (parts[m.a] === undefined || parts[m.b] === undefined) return token;
      [parts[m.a], parts[m.b]] = [parts[m.b]!, parts[m.a]!];
      return parts.join('.');
    }
  }
}

/** What no verification may take; a pathological input (quadratic parsing, a regex) is far slower every time. */
const HANG_MS = 250;

/**
 * The shortest of up to `tries` timed runs of `run`, stopping as soon as one is under `budget` ms: a run
 * slowed by a loaded machine (another process, a GC pause) is measured again, while input that is really
 * slow is slow every time. Robust without loosening the budget.
 */
function fastestRun(run: () => void, budget: number, tries = 4): number {
  let best = Infinity;
  for (let i = 0; i < tries && best >= budget; i++) {
    const started = performance.now();
    run();
    best = Math.min(best, performance.now() - started);
  }
  return best;
}

function outcome(verify: (token: string) => unknown, token: string): 'accepted' | 'refused' {
  const attempt = (): 'accepted' | 'refused' => {
    try {
      verify(token);
      return 'accepted';
    } catch (error) {
      assert.ok(error instanceof JwtError, `foreign error: ${String(error)}`);
      return 'refused';
    }
  };
  let result: 'accepted' | 'refused' | undefined;
  const ms = fastestRun(() => {
    const now = attempt();
    assert.ok(result === undefined || now === result, 'the same token gets the same verdict');
    result = now;
  }, HANG_MS);
  assert.ok(ms < HANG_MS, `a verification never hangs (took ${ms.toFixed(0)} ms at best)`);
  return result!;
}

describe('mutated tokens', () => {
  for (const setup of setups) {
    it(`${setup.alg}: every change (up to 3 edits) is refused with a JwtError, cached verifier included`, () => {
      assert.equal(outcome(setup.verify, setup.token), 'accepted');
      assert.equal(outcome(setup.cached, setup.token), 'accepted');
      fc.assert(
        fc.property(fc.array(mutation, { minLength: 1, maxLength: 3 }), (edits) => {
          const forged = edits.reduce(mutate, setup.token);
          if (forged === setup.token) return;
          assert.equal(outcome(setup.verify, forged), 'refused');
          assert.equal(outcome(setup.cached, forged), 'refused');
        }),
        { numRuns: setup.alg === 'HS256' ? 1500 : 400 },
      );
    });
  }
});

describe('arbitrary input', () => {
  const verify = setups[0]!.verify;

  it('random strings and random three-segment strings only ever raise JwtErrors', () => {
    const segment = fc.string({ unit: fc.constantFrom(...ALPHABET, '=', '+'), maxLength: 40 });
    fc.assert(
      fc.property(fc.oneof(fc.string({ maxLength: 200 }), fc.tuple(segment, segment, segment).map((p) => p.join('.'))), (input) => {
        assert.equal(outcome(verify, input), 'refused');
        try {
          decode(input);
        } catch (error) {
          assert.ok(error instanceof JwtError);
        }
      }),
      { numRuns: 1000 },
    );
  });

  it('validly signed but arbitrary headers and payloads are accepted or refused with JwtErrors only', () => {
    const secret = Buffer.from('p'.repeat(32));
    const json = fc.oneof(fc.jsonValue({ maxDepth: 2 }), fc.dictionary(fc.constantFrom('alg', 'typ', 'kid', 'crit', 'b64', 'exp', 'nbf', 'iat', 'iss', 'aud', 'sub', '__proto__', 'x'), fc.jsonValue({ maxDepth: 1 })));
    fc.assert(
      fc.property(json, json, (header, payload) => {
        const input = `${Buffer.from(JSON.stringify(header) ?? 'null').toString('base64url')}.${Buffer.from(JSON.stringify(payload) ?? 'null').toString('base64url')}`;
        outcome(verify, `${input}.${createHmac('sha256', secret).update(input).digest('base64url')}`);
      }),
      { numRuns: 1000 },
    );
  });

  it('huge inputs are refused by length before any parsing', () => {
    const huge = 'a'.repeat(5_000_000) + '.' + 'b'.repeat(5_000_000) + '.c';
    const ms = fastestRun(() => assert.throws(() => verify(huge), { code: 'ERR_JWT_TOO_LARGE' }), 50);
    assert.ok(ms < 50, `refusing a 10 MB token took ${ms.toFixed(1)} ms at best`);
  });
});

describe('round trips', () => {
  it('any JSON object without registered-claim conflicts signs and verifies to an equal payload', () => {
    const verify = createVerifier({ keys: hs, algorithms: ['HS256'] });
    const sign = createSigner({ key: hs });
    const key = fc.string({ maxLength: 8 }).filter((k) => !['exp', 'nbf', 'iat', 'iss', 'sub', 'aud', 'jti', '__proto__'].includes(k));
    fc.assert(
      fc.property(fc.dictionary(key, fc.jsonValue({ maxDepth: 3 }), { maxKeys: 6 }), (payload) => {
        const clean = JSON.parse(JSON.stringify(payload)) as Record<string, unknown>;
        assert.deepEqual({ ...verify(sign(clean)) }, clean);
      }),
      { numRuns: 500 },
    );
  });

  it('the precomputed-pad HMAC equals createHmac for any key and input', () => {
    fc.assert(
      fc.property(fc.constantFrom(['HS256', 'sha256', 32], ['HS384', 'sha384', 48], ['HS512', 'sha512', 64]), fc.uint8Array({ minLength: 0, maxLength: 200 }), fc.string({ unit: fc.constantFrom(...ALPHABET, '.'), maxLength: 10_000 }), ([alg, hash, min], extra, input) => {
        const secret = Buffer.concat([Buffer.alloc(min as number, 9), extra]);
        const key = importSecret(secret, alg as 'HS256');
        assert.equal(primitiveFor(key).sign(input, input.length), createHmac(hash as string, secret).update(input).digest('base64url'));
      }),
      { numRuns: 300 },
    );
  });
});
