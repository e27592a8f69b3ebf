/**
 * Target (b): Fastify + @fastify/jwt, HS256, verifying a Bearer token on the route the way its README
 * shows (`request.jwtVerify()` in onRequest), with `iss` and `aud` checked as hush checks them. It
 * signs its own token, shaped like a hush access token, and announces it.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import fastifyJwt from '@fastify/jwt';
import Fastify from 'fastify';
import { announce } from '../children.js';

const secret = randomBytes(32).toString('base64url');
const app = Fastify({ logger: false });
await app.register(fastifyJwt, {
  secret,
  sign: { algorithm: 'HS256', iss: 'hush', aud: 'hush', expiresIn: 600 },
  verify: { algorithms: ['HS256'], allowedIss: 'hush', allowedAud: 'hush' },
});
app.get('/api/private', {
  onRequest: async (request) => {
    await request.jwtVerify();
  },
}, (request, reply) => {
  const user = request.user as unknown as { sub: string; preferred_username: string };
  reply.send({ message: `Hello, ${user.preferred_username}.`, user: { id: user.sub, username: user.preferred_username } });
});
await app.ready();
const token = app.jwt.sign({
  sub: randomUUID(),
  client_id: 'hush',
  jti: randomBytes(12).toString('base64url'),
  sid: randomUUID(),
  preferred_username: 'bench-user',
  ver: 1,
  auth_time: Math.floor(Date.now() / 1000),
});
const url = await app.listen({ port: 0, host: '127.0.0.1' });
announce({ url: `${url}/api/private`, token });
process.once('SIGTERM', () => void app.close().then(() => process.exit(0)));
