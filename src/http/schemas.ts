/**
 * JSON schemas of every route: they validate requests (types only — lengths and alphabets are the
 * core's rules), serialize responses fast, and feed the OpenAPI document.
 */

const str = { type: 'string' } as const;

export const errorBody = {
  type: 'object',
  required: ['error', 'error_description'],
  properties: { error: str, error_description: str },
} as const;

export const userBody = {
  type: 'object',
  required: ['id', 'username'],
  properties: { id: { type: 'string', format: 'uuid' }, username: str },
} as const;

export const tokenBody = {
  type: 'object',
  required: ['access_token', 'token_type', 'expires_in', 'user'],
  properties: {
    access_token: str,
    token_type: { type: 'string', enum: ['Bearer'] },
    expires_in: { type: 'integer' },
    user: userBody,
  },
} as const;

export const credentialsBody = {
  type: 'object',
  required: ['username', 'password'],
  properties: { username: str, password: str },
} as const;

export const passwordChangeBody = {
  type: 'object',
  required: ['currentPassword', 'newPassword'],
  properties: { currentPassword: str, newPassword: str },
} as const;

export const passwordBody = {
  type: 'object',
  required: ['password'],
  properties: { password: str },
} as const;

export const statusBody = {
  type: 'object',
  required: ['status'],
  properties: { status: str },
} as const;

export const privateBody = {
  type: 'object',
  required: ['message', 'user'],
  properties: { message: str, user: userBody },
} as const;

const nullableStr = { type: ['string', 'null'] } as const;

export const sessionsBody = {
  type: 'object',
  required: ['sessions'],
  properties: {
    sessions: {
      type: 'array',
      items: {
        type: 'object',
        required: ['id', 'current', 'createdAt', 'lastUsedAt', 'expiresAt', 'userAgent', 'address'],
        properties: {
          id: str,
          current: { type: 'boolean' },
          createdAt: { type: 'string', format: 'date-time' },
          lastUsedAt: { type: 'string', format: 'date-time' },
          expiresAt: { type: 'string', format: 'date-time' },
          userAgent: nullableStr,
          address: nullableStr,
        },
      },
    },
  },
} as const;

export const jwksBody = {
  type: 'object',
  required: ['keys'],
  properties: { keys: { type: 'array', items: { type: 'object', additionalProperties: true } } },
} as const;

/** Standard error responses, by status. */
export function errors(...statuses: number[]): Record<number, typeof errorBody> {
  return Object.fromEntries(statuses.map((s) => [s, errorBody]));
}
