/**
 * Prometheus metrics (prom-client): logins, refreshes and their failures by reason, reuse
 * detections, revocations, rate-limit hits and request latency. Off by default; when on
 * (`HUSH_METRICS_PORT`), served on their own port so they are never exposed with the API.
 */
import { createServer, type Server } from 'node:http';
import type { FastifyInstance } from 'fastify';
import { Counter, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { AuthEvent } from '../core/service.js';
import type { Revocation } from '../store/types.js';

/** The metrics of one hush instance. */
export class Metrics {
  readonly registry = new Registry();
  readonly #logins = new Counter({ name: 'hush_logins_total', help: 'Login attempts by result', labelNames: ['result'], registers: [this.registry] });
  readonly #signups = new Counter({ name: 'hush_signups_total', help: 'Accounts created', registers: [this.registry] });
  readonly #refreshes = new Counter({ name: 'hush_refreshes_total', help: 'Refreshes by result', labelNames: ['result'], registers: [this.registry] });
  readonly #reuse = new Counter({ name: 'hush_refresh_reuse_total', help: 'Replaced refresh tokens shown after the grace (sessions revoked)', registers: [this.registry] });
  readonly #revocations = new Counter({ name: 'hush_revocations_total', help: 'Revocation notices published by this instance', labelNames: ['kind'], registers: [this.registry] });
  readonly #rateLimited = new Counter({ name: 'hush_rate_limited_total', help: 'Requests answered 429', labelNames: ['route'], registers: [this.registry] });
  readonly #duration = new Histogram({
    name: 'hush_http_request_duration_seconds',
    help: 'Request latency by route and status',
    labelNames: ['method', 'route', 'status'],
    buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers: [this.registry],
  });

  constructor() {
    collectDefaultMetrics({ register: this.registry, prefix: 'hush_process_' });
  }

  /** Counts what the auth service reports. */
  record(event: AuthEvent): void {
    switch (event.type) {
      case 'login':
        this.#logins.inc({ result: 'success' });
        break;
      case 'login_failed':
        this.#logins.inc({ result: event.reason });
        break;
      case 'signup':
        this.#signups.inc();
        break;
      case 'refresh':
        this.#refreshes.inc({ result: 'success' });
        break;
      case 'refresh_failed':
        this.#refreshes.inc({ result: event.reason });
        break;
      case 'refresh_reuse':
        this.#reuse.inc();
        break;
      default:
        break;
    }
  }

  /** Counts a revocation notice this instance published. */
  revoked(revocation: Revocation): void {
    this.#revocations.inc({ kind: revocation.kind });
  }

  /** Times every request of `app` (by route pattern, never by raw URL) and counts 429s. */
  instrument(app: FastifyInstance): void {
    app.addHook('onResponse', (request, reply, done) => {
      const route = request.routeOptions.url ?? 'unknown';
      this.#duration.observe({ method: request.method, route, status: String(reply.statusCode) }, reply.elapsedTime / 1000);
      if (reply.statusCode === 429) this.#rateLimited.inc({ route });
      done();
    });
  }

  /** Serves `GET /metrics` on its own port. */
  async listen(port: number, host: string): Promise<Server> {
    const server = createServer((request, response) => {
      if (request.method !== 'GET' || request.url !== '/metrics') {
        response.writeHead(404, { 'content-type': 'text/plain' }).end('not found\n');
        return;
      }
      this.registry.metrics().then(
        (text) => response.writeHead(200, { 'content-type': this.registry.contentType }).end(text),
        () => response.writeHead(500).end(),
      );
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => resolve());
    });
    return server;
  }
}
