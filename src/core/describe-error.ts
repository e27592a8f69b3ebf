/**
 * What a warning may say about an error: its code (ECONNREFUSED, a PostgreSQL SQLSTATE such as
 * 42P01) or else its class name — never its message, which a driver may fill with the URL it was
 * given, password included.
 */
export function describeError(error: unknown): string {
  const code = (error as { code?: unknown } | null)?.code;
  if (typeof code === 'string' && /^[A-Za-z0-9_]{1,40}$/.test(code)) return code;
  return error instanceof Error ? error.name : 'unknown error';
}
