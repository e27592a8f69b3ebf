/**
 * Malicious tokens, each refused with the code it deserves. Covers DESIGN.md's list of what bit other
 * verifiers: alg none, RS→HS confusion, empty keys, non-canonical base64url, exp 1e999, string exp,
 * array payloads, __proto__, duplicate header keys, crit, b64:false, jku/jwk in headers, kid injection,
 * iss/aud arrays, typ confusion — plus signature tampering, sizes and ECDSA edge cases.
 */
import assert from 'node:assert/strict';
import { createHmac, generateKeyPairSync, sign as cryptoSign } from 'node:crypto';
import { describe, it } from 'node:test';
import { createSigner, createVerifier, importSecret, JwtClaimInvalidError, JwtError, KeySet } from './index.js';
import type { JwtKey } from './index.js';

const T = 1_700_000_000;
const clock = (): number => T * 1000;
const SECRET = Buffer.from('0123456789abcdef0123456789abcdef-attack-suite');
const hs: JwtKey = importSecret(SECRET, 'HS256', 'hs');
const rsaPair = generateKeyPairSync('rsa', { modulusLength: 2048 });
const rsa: JwtKey = Object.freeze({ alg: 'RS256', kid: 'rsa', key: rsaPair.publicKey });
const rsaPem = rsaPair.publicKey.export({ format: 'pem', type: 'spki' }).toString();
const attackerRsa = generateKeyPairSync('rsa', { modulusLength: 2048 });
const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' });

const verify = createVerifier({
  keys: new KeySet([hs, rsa]),
  algorithms: ['HS256', 'RS256'],
  issuer: 'hush',
  audience: 'hush',
  typ: 'at+jwt',
  clock,
});
const verifyEs = createVerifier({ keys: { alg: 'ES256', key: ec.publicKey }, algorithms: ['ES256'], clock });

const b64 = (text: string | Buffer): string => Buffer.from(text).toString('base64url');
const hmac = (input: string, secret: string | Buffer = SECRET): string => createHmac('sha256', secret).update(input).digest('base64url');
const HEADER = { alg: 'HS256', typ: 'at+jwt', kid: 'hs' };
const CLAIMS = { iss: 'hush', aud: 'hush', sub: 'user-1', iat: T - 10, exp: T + 600 };

/** A token with raw header/payload JSON text, HMAC-signed with the real secret (so only the flaw is wrong). */
function signedRaw(headerJson: string, payloadJson: string): string {
  const input = `${b64(headerJson)}.${b64(payloadJson)}`;
  return `${input}.${hmac(input)}`;
}
function signed(header: object, payload: object): string {
  return signedRaw(JSON.stringify(header), JSON.stringify(payload));
}
const valid = signed(HEADER, CLAIMS);

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
/** The same bytes spelled with non-zero unused bits in the last character — Node decodes both alike. */
function trailingBitsTwin(segment: string): string {
  assert.ok(segment.length % 4 === 2 || segment.length % 4 === 3, 'needs unused bits');
  const twin = segment.slice(0, -1) + ALPHABET[ALPHABET.indexOf(segment.at(-1)!) ^ 1]!;
  assert.deepEqual(Buffer.from(twin, 'base64url'), Buffer.from(segment, 'base64url'));
  return twin;
}
/** The same bytes in the standard base64 alphabet (without padding). */
function standardAlphabet(segment: string): string {
  const standard = Buffer.from(segment, 'base64url').toString('base64').replace(/=+$/, '');
  assert.notEqual(standard, segment, 'the segment must contain - or _');
  return standard;
}
const [validHeader, validPayload, validSig] = valid.split('.') as [string, string, string];

interface Attack {
  readonly name: string;
  readonly token: unknown;
  readonly code: string;
  readonly claim?: string;
  readonly reason?: string;
  readonly verifier?: (token: string) => unknown;
}

const attacks: Attack[] = [
  // alg none and friends
  { name: 'alg none, empty signature', token: `${b64('{"alg":"none","typ":"at+jwt"}')}.${validPayload}.`, code: 'ERR_JWS_ALG_NOT_ALLOWED' },
  { name: 'alg None (case variant)', token: `${b64('{"alg":"None"}')}.${validPayload}.`, code: 'ERR_JWS_ALG_NOT_ALLOWED' },
  { name: 'alg NONE with a copied signature', token: `${b64('{"alg":"NONE"}')}.${validPayload}.${validSig}`, code: 'ERR_JWS_ALG_NOT_ALLOWED' },
  { name: 'alg none validly HMACed', token: signed({ alg: 'none', typ: 'at+jwt' }, CLAIMS), code: 'ERR_JWS_ALG_NOT_ALLOWED' },
  { name: 'alg outside the allow-list (HS512)', token: signed({ ...HEADER, alg: 'HS512' }, CLAIMS), code: 'ERR_JWS_ALG_NOT_ALLOWED' },
  { name: 'alg __proto__ (prototype lookup)', token: signed({ ...HEADER, alg: '__proto__' }, CLAIMS), code: 'ERR_JWS_ALG_NOT_ALLOWED' },
  { name: 'alg constructor', token: signed({ ...HEADER, alg: 'constructor' }, CLAIMS), code: 'ERR_JWS_ALG_NOT_ALLOWED' },
  { name: 'alg missing', token: signed({ typ: 'at+jwt', kid: 'hs' }, CLAIMS), code: 'ERR_JWT_MALFORMED' },
  { name: 'alg not a string', token: signed({ ...HEADER, alg: ['HS256'] }, CLAIMS), code: 'ERR_JWT_MALFORMED' },

  // algorithm confusion: the RSA public key used as an HMAC secret
  { name: 'RS→HS: HS256 under the RSA kid, HMACed with its PEM', token: (() => { const i = `${b64(JSON.stringify({ alg: 'HS256', typ: 'at+jwt', kid: 'rsa' }))}.${validPayload}`; return `${i}.${hmac(i, rsaPem)}`; })(), code: 'ERR_JWKS_KEY_NOT_FOUND' },
  { name: 'RS→HS: HS256 without kid, HMACed with the PEM', token: (() => { const i = `${b64('{"alg":"HS256","typ":"at+jwt"}')}.${validPayload}`; return `${i}.${hmac(i, rsaPem)}`; })(), code: 'ERR_JWS_SIGNATURE_INVALID' },
  { name: 'RS256 under the HMAC kid', token: (() => { const i = `${b64(JSON.stringify({ alg: 'RS256', typ: 'at+jwt', kid: 'hs' }))}.${validPayload}`; return `${i}.${cryptoSign('sha256', Buffer.from(i), attackerRsa.privateKey).toString('base64url')}`; })(), code: 'ERR_JWKS_KEY_NOT_FOUND' },

  // empty keys and signatures
  { name: 'HMAC with an empty secret', token: (() => { const i = `${validHeader}.${validPayload}`; return `${i}.${hmac(i, '')}`; })(), code: 'ERR_JWS_SIGNATURE_INVALID' },
  { name: 'empty signature', token: `${validHeader}.${validPayload}.`, code: 'ERR_JWS_SIGNATURE_INVALID' },
  { name: 'signature of another secret', token: (() => { const i = `${validHeader}.${validPayload}`; return `${i}.${hmac(i, 'another secret of thirty-two bytes!!')}`; })(), code: 'ERR_JWS_SIGNATURE_INVALID' },
  { name: 'payload changed after signing', token: `${validHeader}.${b64(JSON.stringify({ ...CLAIMS, sub: 'admin' }))}.${validSig}`, code: 'ERR_JWS_SIGNATURE_INVALID' },
  { name: 'header changed after signing', token: `${b64(JSON.stringify({ ...HEADER, typ: 'AT+JWT' }))}.${validPayload}.${validSig}`, code: 'ERR_JWS_SIGNATURE_INVALID' },

  // non-canonical base64url (Node's Buffer would accept every one of these)
  { name: 'signature with = padding', token: `${valid}=`, code: 'ERR_JWT_MALFORMED' },
  { name: 'signature in the standard alphabet (+ and /)', token: `${validHeader}.${validPayload}.${standardAlphabet(validSig)}`, code: 'ERR_JWT_MALFORMED' },
  { name: 'signature with non-zero trailing bits (same bytes)', token: `${validHeader}.${validPayload}.${trailingBitsTwin(validSig)}`, code: 'ERR_JWT_MALFORMED' },
  { name: 'payload with = padding, validly signed', token: (() => { const p = b64(JSON.stringify({ ...CLAIMS, x: 'ab' })); const i = `${validHeader}.${p}${'='.repeat(4 - (p.length % 4))}`; return `${i}.${hmac(i)}`; })(), code: 'ERR_JWT_MALFORMED' },
  { name: 'payload with non-zero trailing bits, validly signed', token: (() => { const i = `${validHeader}.${trailingBitsTwin(b64(JSON.stringify({ ...CLAIMS, x: 'ab' })))}`; return `${i}.${hmac(i)}`; })(), code: 'ERR_JWT_MALFORMED' },
  { name: 'header with non-zero trailing bits, validly signed', token: (() => { const i = `${trailingBitsTwin(b64(JSON.stringify({ ...HEADER, x: 'ab' })))}.${validPayload}`; return `${i}.${hmac(i)}`; })(), code: 'ERR_JWT_MALFORMED' },
  { name: 'whitespace inside the token', token: `${validHeader}.${validPayload.slice(0, 10)} ${validPayload.slice(10)}.${validSig}`, code: 'ERR_JWT_MALFORMED' },
  { name: 'non-ASCII character in the payload segment', token: `${validHeader}.${validPayload}\u00e9.${validSig}`, code: 'ERR_JWT_MALFORMED' },

  // structure
  { name: 'two segments', token: `${validHeader}.${validPayload}`, code: 'ERR_JWT_MALFORMED' },
  { name: 'four segments', token: `${valid}.${validSig}`, code: 'ERR_JWT_MALFORMED' },
  { name: 'empty header segment', token: `.${validPayload}.${validSig}`, code: 'ERR_JWT_MALFORMED' },
  { name: 'not a string', token: 12345, code: 'ERR_JWT_MALFORMED' },
  { name: 'longer than 8 KiB', token: signed(HEADER, { ...CLAIMS, pad: 'x'.repeat(8192) }), code: 'ERR_JWT_TOO_LARGE' },

  // payload shapes
  { name: 'array payload', token: signedRaw(JSON.stringify(HEADER), JSON.stringify([CLAIMS])), code: 'ERR_JWT_MALFORMED' },
  { name: 'string payload', token: signedRaw(JSON.stringify(HEADER), '"iss"'), code: 'ERR_JWT_MALFORMED' },
  { name: 'null payload', token: signedRaw(JSON.stringify(HEADER), 'null'), code: 'ERR_JWT_MALFORMED' },
  { name: 'payload with invalid UTF-8', token: (() => { const i = `${validHeader}.${Buffer.concat([Buffer.from('{"iss":"hu'), Buffer.from([0xc3, 0x28]), Buffer.from('sh"}')]).toString('base64url')}`; return `${i}.${hmac(i)}`; })(), code: 'ERR_JWT_MALFORMED' },
  { name: 'payload with an overlong UTF-8 encoding', token: (() => { const i = `${validHeader}.${Buffer.concat([Buffer.from('{"iss":"'), Buffer.from([0xc0, 0xaf]), Buffer.from('"}')]).toString('base64url')}`; return `${i}.${hmac(i)}`; })(), code: 'ERR_JWT_MALFORMED' },
  { name: 'payload with a UTF-8 BOM', token: signedRaw(JSON.stringify(HEADER), `\ufeff${JSON.stringify(CLAIMS)}`), code: 'ERR_JWT_MALFORMED' },
  { name: 'header that is an array', token: signedRaw(JSON.stringify([HEADER]), JSON.stringify(CLAIMS)), code: 'ERR_JWT_MALFORMED' },
  { name: 'nested JWT (cty JWT, payload is a token)', token: signedRaw(JSON.stringify({ ...HEADER, cty: 'JWT' }), JSON.stringify(valid)), code: 'ERR_JWT_MALFORMED' },

  // time claims that are not finite numbers
  { name: 'exp 1e999 (parses to Infinity)', token: signedRaw(JSON.stringify(HEADER), '{"iss":"hush","aud":"hush","exp":1e999}'), code: 'ERR_JWT_CLAIM_INVALID', claim: 'exp', reason: 'invalid' },
  { name: 'exp as a string', token: signed(HEADER, { ...CLAIMS, exp: String(T + 600) }), code: 'ERR_JWT_CLAIM_INVALID', claim: 'exp', reason: 'invalid' },
  { name: 'exp null', token: signed(HEADER, { ...CLAIMS, exp: null }), code: 'ERR_JWT_CLAIM_INVALID', claim: 'exp', reason: 'invalid' },
  { name: 'nbf as a string', token: signed(HEADER, { ...CLAIMS, nbf: '0' }), code: 'ERR_JWT_CLAIM_INVALID', claim: 'nbf', reason: 'invalid' },
  { name: 'iat as an object', token: signed(HEADER, { ...CLAIMS, iat: { valueOf: 1 } }), code: 'ERR_JWT_CLAIM_INVALID', claim: 'iat', reason: 'invalid' },
  { name: 'exp in the past', token: signed(HEADER, { ...CLAIMS, exp: T - 1 }), code: 'ERR_JWT_EXPIRED' },
  { name: 'exp exactly now', token: signed(HEADER, { ...CLAIMS, exp: T }), code: 'ERR_JWT_EXPIRED' },
  { name: 'nbf in the future', token: signed(HEADER, { ...CLAIMS, nbf: T + 1 }), code: 'ERR_JWT_NOT_YET_VALID' },

  // __proto__
  { name: '__proto__ in the payload carrying iss/aud', token: signedRaw(JSON.stringify(HEADER), '{"__proto__":{"iss":"hush","aud":"hush"},"sub":"x","exp":1700000600}'), code: 'ERR_JWT_CLAIM_INVALID', claim: 'iss', reason: 'missing' },
  { name: '__proto__ in the header carrying alg', token: signedRaw('{"__proto__":{"alg":"HS256"},"typ":"at+jwt","kid":"hs"}', JSON.stringify(CLAIMS)), code: 'ERR_JWT_MALFORMED' },

  // duplicate header members (JSON.parse keeps the last)
  { name: 'duplicate alg: none then HS256', token: signedRaw('{"alg":"none","alg":"HS256","typ":"at+jwt","kid":"hs"}', JSON.stringify(CLAIMS)), code: 'ERR_JWT_MALFORMED' },
  { name: 'duplicate alg spelled with an escape', token: signedRaw('{"alg":"RS256","\\u0061lg":"HS256","typ":"at+jwt","kid":"hs"}', JSON.stringify(CLAIMS)), code: 'ERR_JWT_MALFORMED' },
  { name: 'duplicate kid', token: signedRaw('{"alg":"HS256","typ":"at+jwt","kid":"rsa","kid":"hs"}', JSON.stringify(CLAIMS)), code: 'ERR_JWT_MALFORMED' },

  // crit and b64
  { name: 'crit naming an unknown extension', token: signed({ ...HEADER, crit: ['exp'], exp: T + 600 }, CLAIMS), code: 'ERR_JWS_CRIT_UNSUPPORTED' },
  { name: 'crit empty', token: signed({ ...HEADER, crit: [] }, CLAIMS), code: 'ERR_JWT_MALFORMED' },
  { name: 'crit naming a registered parameter', token: signed({ ...HEADER, crit: ['alg'] }, CLAIMS), code: 'ERR_JWT_MALFORMED' },
  { name: 'crit naming an absent parameter', token: signed({ ...HEADER, crit: ['x-ext'] }, CLAIMS), code: 'ERR_JWT_MALFORMED' },
  { name: 'crit not an array', token: signed({ ...HEADER, crit: 'b64', b64: true }, CLAIMS), code: 'ERR_JWT_MALFORMED' },
  { name: 'b64 false with crit', token: signed({ ...HEADER, b64: false, crit: ['b64'] }, CLAIMS), code: 'ERR_JWS_CRIT_UNSUPPORTED' },
  { name: 'b64 false without crit', token: signed({ ...HEADER, b64: false }, CLAIMS), code: 'ERR_JWS_CRIT_UNSUPPORTED' },

  // keys carried or pointed to by the header are never used
  { name: 'embedded jwk of the attacker\'s RSA key', token: (() => { const jwk = attackerRsa.publicKey.export({ format: 'jwk' }); const i = `${b64(JSON.stringify({ alg: 'RS256', typ: 'at+jwt', jwk }))}.${validPayload}`; return `${i}.${cryptoSign('sha256', Buffer.from(i), attackerRsa.privateKey).toString('base64url')}`; })(), code: 'ERR_JWS_SIGNATURE_INVALID' },
  { name: 'jku pointing to the attacker, unknown kid', token: (() => { const i = `${b64(JSON.stringify({ alg: 'RS256', typ: 'at+jwt', kid: 'attacker', jku: 'https://attacker.example/jwks.json' }))}.${validPayload}`; return `${i}.${cryptoSign('sha256', Buffer.from(i), attackerRsa.privateKey).toString('base64url')}`; })(), code: 'ERR_JWKS_KEY_NOT_FOUND' },
  { name: 'x5u with our kid, attacker\'s signature', token: (() => { const i = `${b64(JSON.stringify({ alg: 'RS256', typ: 'at+jwt', kid: 'rsa', x5u: 'https://attacker.example/cert.pem' }))}.${validPayload}`; return `${i}.${cryptoSign('sha256', Buffer.from(i), attackerRsa.privateKey).toString('base64url')}`; })(), code: 'ERR_JWS_SIGNATURE_INVALID' },

  // kid injection
  { name: 'kid path traversal', token: signed({ ...HEADER, kid: '../../../../dev/null' }, CLAIMS), code: 'ERR_JWKS_KEY_NOT_FOUND' },
  { name: 'kid SQL injection', token: signed({ ...HEADER, kid: "x' UNION SELECT 'secret" }, CLAIMS), code: 'ERR_JWKS_KEY_NOT_FOUND' },
  { name: 'kid __proto__', token: signed({ ...HEADER, kid: '__proto__' }, CLAIMS), code: 'ERR_JWKS_KEY_NOT_FOUND' },
  { name: 'kid with a trailing space (no fuzzy match)', token: signed({ ...HEADER, kid: 'hs ' }, CLAIMS), code: 'ERR_JWKS_KEY_NOT_FOUND' },
  { name: 'kid not a string', token: signed({ ...HEADER, kid: 1 }, CLAIMS), code: 'ERR_JWT_MALFORMED' },

  // iss / aud / typ confusion
  { name: 'iss as an array', token: signed(HEADER, { ...CLAIMS, iss: ['hush'] }), code: 'ERR_JWT_CLAIM_INVALID', claim: 'iss', reason: 'invalid' },
  { name: 'iss that only starts with the issuer', token: signed(HEADER, { ...CLAIMS, iss: 'hush.attacker.example' }), code: 'ERR_JWT_CLAIM_INVALID', claim: 'iss', reason: 'mismatch' },
  { name: 'aud array without the audience', token: signed(HEADER, { ...CLAIMS, aud: ['other', 'HUSH'] }), code: 'ERR_JWT_CLAIM_INVALID', claim: 'aud', reason: 'mismatch' },
  { name: 'aud array with a non-string', token: signed(HEADER, { ...CLAIMS, aud: ['hush', 1] }), code: 'ERR_JWT_CLAIM_INVALID', claim: 'aud', reason: 'invalid' },
  { name: 'aud as an object', token: signed(HEADER, { ...CLAIMS, aud: { hush: true } }), code: 'ERR_JWT_CLAIM_INVALID', claim: 'aud', reason: 'invalid' },
  { name: 'aud missing', token: signed(HEADER, { iss: 'hush', exp: T + 60 }), code: 'ERR_JWT_CLAIM_INVALID', claim: 'aud', reason: 'missing' },
  { name: 'typ JWT where at+jwt is required (RFC 9068)', token: signed({ ...HEADER, typ: 'JWT' }, CLAIMS), code: 'ERR_JWT_CLAIM_INVALID', claim: 'typ', reason: 'mismatch' },
  { name: 'typ missing where at+jwt is required', token: signed({ alg: 'HS256', kid: 'hs' }, CLAIMS), code: 'ERR_JWT_CLAIM_INVALID', claim: 'typ', reason: 'missing' },
  { name: 'typ not a string', token: signed({ ...HEADER, typ: ['at+jwt'] }, CLAIMS), code: 'ERR_JWT_MALFORMED' },

  // ECDSA
  { name: 'ES256 "psychic" signature r = s = 0', token: `${b64('{"alg":"ES256"}')}.${validPayload}.${b64(Buffer.alloc(64))}`, code: 'ERR_JWS_SIGNATURE_INVALID', verifier: verifyEs },
  { name: 'ES256 signature in DER instead of r||s', token: (() => { const i = `${b64('{"alg":"ES256"}')}.${validPayload}`; return `${i}.${cryptoSign('sha256', Buffer.from(i), ec.privateKey).toString('base64url')}`; })(), code: 'ERR_JWS_SIGNATURE_INVALID', verifier: verifyEs },
  { name: 'ES256 signature one byte too long', token: (() => { const i = `${b64('{"alg":"ES256"}')}.${validPayload}`; const sig = cryptoSign('sha256', Buffer.from(i), { key: ec.privateKey, dsaEncoding: 'ieee-p1363' }); return `${i}.${Buffer.concat([sig, Buffer.from([0])]).toString('base64url')}`; })(), code: 'ERR_JWS_SIGNATURE_INVALID', verifier: verifyEs },
];

describe('attack tokens are refused with the right code', () => {
  it(`has at least 40 attacks (${attacks.length})`, () => {
    assert.ok(attacks.length >= 40);
  });

  it('the untouched token verifies (so each attack fails only for its flaw)', () => {
    assert.equal(verify(valid)['sub'], 'user-1');
    const es = createSigner({ key: { alg: 'ES256', key: ec.privateKey }, typ: 'JWT' })(CLAIMS);
    assert.equal(verifyEs(es)['sub'], 'user-1');
  });

  for (const attack of attacks) {
    it(`${attack.name} → ${attack.code}${attack.claim ? ` (${attack.claim}, ${attack.reason ?? ''})` : ''}`, () => {
      const run = attack.verifier ?? verify;
      let caught: unknown;
      try {
        run(attack.token as string);
      } catch (error) {
        caught = error;
      }
      assert.ok(caught instanceof JwtError, `expected a JwtError, got ${String(caught)}`);
      assert.equal(caught.code, attack.code, caught.message);
      if (attack.claim !== undefined) {
        assert.ok(caught instanceof JwtClaimInvalidError);
        assert.equal(caught.claim, attack.claim);
        assert.equal(caught.reason, attack.reason);
      }
      if (typeof attack.token === 'string') {
        for (const segment of attack.token.split('.')) {
          if (segment.length > 8) assert.ok(!caught.message.includes(segment), 'the message never contains the token');
        }
      }
    });
  }
});
