/** The few access-token claims the client reads; it never verifies tokens, the servers do. */
export interface TokenClaims {
  sub?: unknown;
  iat?: unknown;
  exp?: unknown;
}

/**
 * Decodes the payload of a compact JWS without verifying it, or returns an empty object when it is not one.
 * Used only to tell whether an `x-access-token` header belongs to the signed-in user and how long it lives.
 */
export function readClaims(token: string): TokenClaims {
  try {
    const claims: unknown = JSON.parse(atob(token.split('.')[1]!.replace(/-/g, '+').replace(/_/g, '/')));
    return claims && typeof claims === 'object' ? claims : {};
  } catch {
    return {};
  }
}
