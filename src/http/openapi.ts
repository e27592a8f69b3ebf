/**
 * An OpenAPI 3.1 document generated from the route schemas, so the docs cannot drift from what
 * the server validates and sends.
 */
import type { FastifyInstance, RouteOptions } from 'fastify';

declare module 'fastify' {
  interface FastifySchema {
    /** One line for the OpenAPI document. */
    summary?: string;
    /** OpenAPI security requirements, e.g. `[{ bearer: [] }]`. */
    security?: ReadonlyArray<Record<string, readonly string[]>>;
    /** Leave the route out of the OpenAPI document. */
    hide?: boolean;
  }
}

interface Operation {
  summary?: string;
  security?: unknown;
  parameters?: unknown[];
  requestBody?: unknown;
  responses: Record<string, unknown>;
}

const DESCRIPTIONS: Record<string, string> = {
  '200': 'OK', '201': 'Created', '204': 'No content', '400': 'invalid_request', '401': 'Unauthorized',
  '403': 'Forbidden', '404': 'not_found or not_supported', '409': 'username_taken', '413': 'payload_too_large',
  '415': 'unsupported_media_type', '429': 'rate_limited (see Retry-After)', '503': 'unavailable (see Retry-After)',
};

/** Collects the routes registered after this call into an OpenAPI document. */
export function collectOpenApi(app: FastifyInstance, info: { title: string; version: string }): () => object {
  const paths: Record<string, Record<string, Operation>> = {};
  app.addHook('onRoute', (route: RouteOptions) => {
    const schema = route.schema as
      | { summary?: string; security?: unknown; body?: unknown; params?: { properties?: Record<string, unknown> }; response?: Record<string, unknown>; hide?: boolean }
      | undefined;
    if (!schema || schema.hide || route.url.includes('*')) return;
    const path = route.url.replace(/:([A-Za-z_]+)/g, '{$1}');
    const methods = (Array.isArray(route.method) ? route.method : [route.method]).filter((m) => m !== 'HEAD');
    for (const method of methods) {
      const responses: Record<string, unknown> = {};
      for (const [status, body] of Object.entries(schema.response ?? {})) {
        responses[status] = { description: DESCRIPTIONS[status] ?? status, content: { 'application/json': { schema: body } } };
      }
      if (method === 'DELETE' || path.endsWith('logout') || path.endsWith('logout-all')) {
        responses['204'] ??= { description: DESCRIPTIONS['204'] };
      }
      const operation: Operation = { responses };
      if (schema.summary) operation.summary = schema.summary;
      if (schema.security) operation.security = schema.security;
      if (schema.params?.properties) {
        operation.parameters = Object.entries(schema.params.properties).map(([name, s]) => ({ name, in: 'path', required: true, schema: s }));
      }
      if (schema.body) operation.requestBody = { required: true, content: { 'application/json': { schema: schema.body } } };
      (paths[path] ??= {})[method.toLowerCase()] = operation;
    }
  });
  return () => ({
    openapi: '3.1.0',
    info,
    paths,
    components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' } } },
  });
}
