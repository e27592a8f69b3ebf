/**
 * `npm run bench:jwt` — hush-auth/jwt against its peers, in one process, as ratios.
 *
 * Method: every contestant of a section runs in interleaved rounds (the order rotates each round), each
 * round a batch sized to take ~BATCH_MS, every operation on a distinct token (or payload). The score is
 * the median ops/s over the rounds; a ratio is the median of the per-round ratios (each round runs the
 * contestants back to back, which cancels most load drift on a shared machine). Each peer is used at
 * its best: fast-jwt through its precompiled factory with its cache off, jsonwebtoken with a KeyObject,
 * jose with an imported CryptoKey. Every verifier checks signature, exp, iss and aud. The raw
 * floor is what any verifier must at least do (issue 2): split, HMAC-SHA256 of the signing input with
 * a pre-made KeyObject, decode the signature, timingSafeEqual, JSON.parse header and payload, check
 * exp — and for EdDSA/ES256 the same with crypto.verify in place of the HMAC.
 */
import { createHmac, createSecretKey, timingSafeEqual, verify as cryptoVerify, randomUUID, webcrypto } from 'node:crypto';
import type { KeyObject } from 'node:crypto';
import * as jose from 'jose';
import { createSigner as fastSigner, createVerifier as fastVerifier } from 'fast-jwt';
import jsonwebtoken from 'jsonwebtoken';
import { createSigner, createVerifier, exportJwk, generateKey, importSecret, publicKey } from '../src/jwt/index.js';
import type { JwtKey } from '../src/jwt/index.js';

const ROUNDS = Number(process.env['BENCH_ROUNDS'] ?? 41);
const BATCH_MS = Number(process.env['BENCH_BATCH_MS'] ?? 15);
const TOKENS = 20_000;

interface Contestant {
  readonly name: string;
  /** Runs operation `i` (i indexes the section's distinct inputs). */
  readonly run: (i: number) => unknown;
  readonly async?: boolean;
  /** Called before each batch, outside the timing (e.g. to make fresh token strings). */
  readonly prepare?: (ops: number) => void;
}

interface Score {
  readonly name: string;
  /** Median ops/s over the rounds. */
  readonly opsPerSec: number;
  /** ops/s of each round, in round order (rounds are interleaved, so round i of two contestants ran side by side). */
  readonly rounds: readonly number[];
}

async function batch(c: Contestant, ops: number, offset: number): Promise<number> {
  c.prepare?.(ops);
  const start = process.hrtime.bigint();
  if (c.async === true) {
    for (let i = 0; i < ops; i++) await c.run(offset + i);
  } else {
    for (let i = 0; i < ops; i++) c.run(offset + i);
  }
  const ns = Number(process.hrtime.bigint() - start);
  return (ops * 1e9) / ns;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

async function section(contestants: readonly Contestant[], inputs: number): Promise<Score[]> {
  // Warm up (JIT) and size each batch to ~BATCH_MS, within the number of distinct inputs.
  const sizes = new Map<Contestant, number>();
  for (const c of contestants) {
    await batch(c, Math.min(2000, inputs), 0);
    const rate = await batch(c, Math.min(2000, inputs), 0);
    sizes.set(c, Math.max(50, Math.min(inputs, Math.round((rate * BATCH_MS) / 1000))));
  }
  const results = new Map<Contestant, number[]>(contestants.map((c) => [c, []]));
  for (let round = 0; round < ROUNDS; round++) {
    for (let k = 0; k < contestants.length; k++) {
      const c = contestants[(round + k) % contestants.length]!;
      const ops = sizes.get(c)!;
      const offset = (round * 7919) % Math.max(1, inputs - ops + 1);
      results.get(c)!.push(await batch(c, ops, offset));
    }
  }
  return contestants.map((c) => ({ name: c.name, opsPerSec: median(results.get(c)!), rounds: results.get(c)! }));
}

function fmt(n: number): string {
  return Math.round(n).toLocaleString('en-US');
}

const lines: string[] = [];
function print(line: string): void {
  lines.push(line);
  console.log(line);
}

/**
 * The ratio of two contestants: the median of their per-round ratios. Each round runs them back to back,
 * so a ratio within a round cancels most of the load drift of a shared machine.
 */
function ratio(scores: readonly Score[], a: string, b: string): number {
  const ra = scores.find((s) => s.name === a)!.rounds;
  const rb = scores.find((s) => s.name === b)!.rounds;
  return median(ra.map((value, i) => value / rb[i]!));
}

function table(title: string, scores: readonly Score[], floorName: string): void {
  print(`\n${title}`);
  print(`  ${'contestant'.padEnd(36)} ${'ops/s'.padStart(11)} ${'µs/op'.padStart(8)} ${'× floor'.padStart(8)}`);
  for (const s of scores) {
    print(`  ${s.name.padEnd(36)} ${fmt(s.opsPerSec).padStart(11)} ${(1e6 / s.opsPerSec).toFixed(2).padStart(8)} ${ratio(scores, s.name, floorName).toFixed(2).padStart(8)}`);
  }
}

const verdicts: string[] = [];
function target(label: string, value: number, goal: number): void {
  verdicts.push(`  ${value >= goal ? 'PASS' : 'MISS'}  ${label}: ${value.toFixed(2)}× (target ≥ ${goal}×)`);
}

function bestPeer(scores: readonly Score[], peers: readonly string[]): Score {
  return scores.filter((s) => peers.includes(s.name)).reduce((a, b) => (b.opsPerSec > a.opsPerSec ? b : a));
}


// ---------------------------------------------------------------------------------------------
// Inputs: realistic access tokens (the claims of CONTRACT.md), each distinct.

const ISS = 'hush';
const AUD = 'hush';
const now = Math.floor(Date.now() / 1000);
function claims(i: number): Record<string, unknown> {
  return {
    iss: ISS,
    aud: AUD,
    sub: randomUUID(),
    client_id: 'hush',
    iat: now,
    exp: now + 3600,
    jti: `${randomUUID()}-${i}`,
    sid: randomUUID(),
    preferred_username: `user${i}`,
  };
}
const payloads = Array.from({ length: TOKENS }, (_, i) => claims(i));

const SECRET = 'bench-secret-0123456789abcdef-0123456789abcdef';
const hsKey = importSecret(SECRET, 'HS256');
const hsKeyObject: KeyObject = createSecretKey(Buffer.from(SECRET));
const hsCryptoKey = await webcrypto.subtle.importKey('raw', Buffer.from(SECRET), { name: 'HMAC', hash: 'SHA-256' }, false, ['sign', 'verify']);
const hsSign = createSigner({ key: hsKey, typ: 'at+jwt' });
/** Tokens as a server receives them: flat strings parsed from a header, not concatenations. */
const received = (token: string): string => Buffer.from(token, 'latin1').toString('latin1');
const hsTokens = payloads.map((p) => received(hsSign(p)));

function floorVerifyHs(token: string): unknown {
  const parts = token.split('.');
  const header = parts[0]!;
  const payload = parts[1]!;
  const mac = createHmac('sha256', hsKeyObject).update(token.slice(0, header.length + 1 + payload.length)).digest();
  const sig = Buffer.from(parts[2]!, 'base64url');
  if (sig.length !== mac.length || !timingSafeEqual(sig, mac)) throw new Error('bad signature');
  JSON.parse(Buffer.from(header, 'base64url').toString());
  const claimsOut = JSON.parse(Buffer.from(payload, 'base64url').toString()) as { exp?: unknown };
  if (typeof claimsOut.exp !== 'number' || claimsOut.exp <= Date.now() / 1000) throw new Error('expired');
  return claimsOut;
}

const FLOOR = 'raw node:crypto floor';
const HUSH = 'hush';
const peerNames = ['fast-jwt (cache off)', 'jsonwebtoken (KeyObject)', 'jose (CryptoKey)'];

// Each verifier checks signature, exp, iss and aud; hush also checks typ (at+jwt) and claim types.
const hushHs = createVerifier({ keys: hsKey, algorithms: ['HS256'], issuer: ISS, audience: AUD, typ: 'at+jwt' });
const fastHs = fastVerifier({ key: SECRET, algorithms: ['HS256'], allowedIss: ISS, allowedAud: AUD, cache: false });
const joseOpts = { algorithms: ['HS256'], issuer: ISS, audience: AUD };
const jwtOpts: jsonwebtoken.VerifyOptions = { algorithms: ['HS256'], issuer: ISS, audience: AUD };

// Sanity: every contestant accepts the tokens.
floorVerifyHs(hsTokens[0]!);
hushHs(hsTokens[0]!);
fastHs(hsTokens[0]!);
jsonwebtoken.verify(hsTokens[0]!, hsKeyObject, jwtOpts);
await jose.jwtVerify(hsTokens[0]!, hsCryptoKey, joseOpts);

print(`hush-auth/jwt benchmark — node ${process.version}, ${ROUNDS} interleaved rounds of ~${BATCH_MS} ms, medians`);

const hsVerify = await section(
  [
    { name: HUSH, run: (i) => hushHs(hsTokens[i]!) },
    { name: FLOOR, run: (i) => floorVerifyHs(hsTokens[i]!) },
    { name: peerNames[0]!, run: (i) => fastHs(hsTokens[i]!) },
    { name: peerNames[1]!, run: (i) => jsonwebtoken.verify(hsTokens[i]!, hsKeyObject, jwtOpts) },
    { name: peerNames[2]!, run: (i) => jose.jwtVerify(hsTokens[i]!, hsCryptoKey, joseOpts), async: true },
  ],
  TOKENS,
);
table('HS256 verify (distinct tokens)', hsVerify, FLOOR);
const hsBest = bestPeer(hsVerify, peerNames);
target(`HS256 verify vs best peer (${hsBest.name})`, ratio(hsVerify, HUSH, hsBest.name), 1.1);
target('HS256 verify vs raw floor (aim)', ratio(hsVerify, HUSH, FLOOR), 0.9);

// ---------------------------------------------------------------------------------------------
const fastHsSign = fastSigner({ key: SECRET, algorithm: 'HS256', noTimestamp: true, header: { alg: 'HS256', typ: 'at+jwt' } });
const floorHeader = Buffer.from(JSON.stringify({ alg: 'HS256', typ: 'at+jwt' })).toString('base64url') + '.';
function floorSignHs(payload: Record<string, unknown>): string {
  const input = floorHeader + Buffer.from(JSON.stringify(payload)).toString('base64url');
  return input + '.' + createHmac('sha256', hsKeyObject).update(input).digest('base64url');
}
const hsSignScores = await section(
  [
    { name: HUSH, run: (i) => hsSign(payloads[i]!) },
    { name: FLOOR, run: (i) => floorSignHs(payloads[i]!) },
    { name: peerNames[0]!, run: (i) => fastHsSign(payloads[i]!) },
    { name: peerNames[1]!, run: (i) => jsonwebtoken.sign(payloads[i]!, hsKeyObject, { algorithm: 'HS256', noTimestamp: true, header: { alg: 'HS256', typ: 'at+jwt' } }) },
    { name: peerNames[2]!, run: (i) => new jose.SignJWT(payloads[i]!).setProtectedHeader({ alg: 'HS256', typ: 'at+jwt' }).sign(hsCryptoKey), async: true },
  ],
  TOKENS,
);
table('HS256 sign (distinct payloads)', hsSignScores, FLOOR);
const signBest = bestPeer(hsSignScores, peerNames);
target(`HS256 sign vs best peer (${signBest.name})`, ratio(hsSignScores, HUSH, signBest.name), 1.1);

// ---------------------------------------------------------------------------------------------
async function asymmetric(alg: 'EdDSA' | 'ES256', count: number): Promise<void> {
  const privateKey: JwtKey = generateKey(alg);
  const pub = publicKey(privateKey);
  const sign = createSigner({ key: privateKey, typ: 'at+jwt' });
  const tokens = payloads.slice(0, count).map((p) => received(sign(p)));
  const pubObject = pub.key;
  const floorKey = alg === 'ES256' ? { key: pubObject, dsaEncoding: 'ieee-p1363' as const } : pubObject;
  const digest = alg === 'ES256' ? 'sha256' : null;
  const floor = (token: string): unknown => {
    const parts = token.split('.');
    const header = parts[0]!;
    const payload = parts[1]!;
    const data = Buffer.from(token.slice(0, header.length + 1 + payload.length));
    if (!cryptoVerify(digest, data, floorKey, Buffer.from(parts[2]!, 'base64url'))) throw new Error('bad signature');
    JSON.parse(Buffer.from(header, 'base64url').toString());
    const out = JSON.parse(Buffer.from(payload, 'base64url').toString()) as { exp?: unknown };
    if (typeof out.exp !== 'number' || out.exp <= Date.now() / 1000) throw new Error('expired');
    return out;
  };
  const hush = createVerifier({ keys: pub, algorithms: [alg], issuer: ISS, audience: AUD, typ: 'at+jwt' });
  const cryptoKey = await jose.importJWK(exportJwk(pub), alg);
  const pem = pubObject.export({ format: 'pem', type: 'spki' }).toString();
  const fast = fastVerifier({ key: pem, algorithms: [alg], allowedIss: ISS, allowedAud: AUD, cache: false });
  const opts = { algorithms: [alg], issuer: ISS, audience: AUD };
  floor(tokens[0]!);
  hush(tokens[0]!);
  fast(tokens[0]!);
  await jose.jwtVerify(tokens[0]!, cryptoKey, opts);
  const contestants: Contestant[] = [
    { name: HUSH, run: (i) => hush(tokens[i]!) },
    { name: FLOOR, run: (i) => floor(tokens[i]!) },
    { name: peerNames[0]!, run: (i) => fast(tokens[i]!) },
    { name: peerNames[2]!, run: (i) => jose.jwtVerify(tokens[i]!, cryptoKey, opts), async: true },
  ];
  if (alg === 'ES256') {
    contestants.push({ name: peerNames[1]!, run: (i) => jsonwebtoken.verify(tokens[i]!, pubObject, { algorithms: ['ES256'], issuer: ISS, audience: AUD }) });
  }
  const scores = await section(contestants, count);
  table(`${alg} verify (distinct tokens; floor = crypto.verify)`, scores, FLOOR);
  target(`${alg} verify vs raw crypto.verify floor`, ratio(scores, HUSH, FLOOR), 0.95);
}
await asymmetric('EdDSA', 4000);
await asymmetric('ES256', 4000);

// ---------------------------------------------------------------------------------------------
// A repeated token, as a server sees one client's requests. Every operation gets a freshly allocated
// copy of the token string, as an HTTP parser would produce, so no cached string hash helps.
const repeated = hsTokens[0]!;
const hushCached = createVerifier({ keys: hsKey, algorithms: ['HS256'], issuer: ISS, audience: AUD, typ: 'at+jwt', cache: { max: 1000 } });
const fastCached = fastVerifier({ key: SECRET, algorithms: ['HS256'], allowedIss: ISS, allowedAud: AUD, cache: true });
let copies: string[] = [];
let next = 0;
const freshCopies = (ops: number): void => {
  copies = Array.from({ length: ops }, () => Buffer.from(repeated, 'latin1').toString('latin1'));
  next = 0;
};
const cachedScores = await section(
  [
    { name: 'hush (cache on, repeated token)', run: () => hushCached(copies[next++]!), prepare: freshCopies },
    { name: FLOOR, run: (i) => floorVerifyHs(hsTokens[i]!) },
    { name: 'fast-jwt (cache on, repeated token)', run: () => fastCached(copies[next++]!), prepare: freshCopies },
  ],
  TOKENS,
);
table('HS256 verify, repeated token with the verified-token cache', cachedScores, FLOOR);
target('cached repeated HS256 vs raw floor', ratio(cachedScores, 'hush (cache on, repeated token)', FLOOR), 3);

print('\nTargets (issue 2)');
for (const v of verdicts) print(v);
