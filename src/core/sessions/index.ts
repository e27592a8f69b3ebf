/** Session strategies: `stateless` (nothing stored) and `rotating` (one row per session). */
import { rotatingSessions, type RotatingDeps } from './rotating.js';
import { statelessSessions } from './stateless.js';
import type { SessionStrategy } from './types.js';

export type { SessionInfo, SessionOrigin, SessionPolicy, SessionStrategy, SessionTokens } from './types.js';
export { rotatingSessions, statelessSessions };

/** The strategy named `kind`. */
export function createSessionStrategy(kind: 'stateless' | 'rotating', deps: RotatingDeps): SessionStrategy {
  return kind === 'rotating' ? rotatingSessions(deps) : statelessSessions(deps);
}
