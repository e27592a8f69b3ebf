/** Target (a): a bare Fastify hello route, the ceiling any Fastify app can reach here. */
import Fastify from 'fastify';
import { announce } from '../children.js';

const app = Fastify({ logger: false });
app.get('/', (_request, reply) => {
  reply.send({ hello: 'world' });
});
const url = await app.listen({ port: 0, host: '127.0.0.1' });
announce({ url: `${url}/` });
process.once('SIGTERM', () => void app.close().then(() => process.exit(0)));
