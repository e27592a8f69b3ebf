/**
 * Field rules of the contract. Signup enforces the username alphabet; login checks only types
 * and lengths, so a username that cannot exist fails like a wrong password (no enumeration
 * through a 400 that a real account would not give). Likewise a new password must be well-formed
 * Unicode, while at login a malformed one is only a password that cannot match.
 */
import { invalidRequest } from './errors.js';
import { passwordLength } from './password.js';

export const USERNAME_MIN = 3;
export const USERNAME_MAX = 64;
export const PASSWORD_MIN = 8;
export const PASSWORD_MAX = 1024;
const USERNAME_ALPHABET = /^[A-Za-z0-9._@-]+$/;

/** Throws 400 unless `username` is 3–64 characters (login) and, for signup, of the allowed alphabet. */
export function checkUsername(username: string, mode: 'signup' | 'login'): void {
  if (username.length < USERNAME_MIN || username.length > USERNAME_MAX) {
    throw invalidRequest(`username must be ${USERNAME_MIN} to ${USERNAME_MAX} characters long`);
  }
  if (mode === 'signup' && !USERNAME_ALPHABET.test(username)) {
    throw invalidRequest('username may contain only ASCII letters, digits and . _ - @');
  }
}

/**
 * Whether an account could have this username. Login looks up only such names: the others fail
 * like any unknown user, and never reach the database (PostgreSQL text cannot even hold NUL).
 */
export function isPossibleUsername(username: string): boolean {
  return USERNAME_ALPHABET.test(username);
}

declare global {
  interface String {
    /** ES2024 (Node 20): whether the string has no lone surrogate. Not yet in the ES2023 lib we compile against. */
    isWellFormed(): boolean;
  }
}

/**
 * Throws 400 unless `password` is well-formed Unicode (no lone surrogate) and 8–1024 code points after
 * NFKC normalisation: for every password that is about to be set (signup, change, operator). A lone
 * surrogate is legal in JSON (`"\ud800"`) but not text; hashing turns every one into U+FFFD, so
 * different strings would otherwise be the same password.
 */
export function checkPassword(password: string, field = 'password'): void {
  checkLoginPassword(password, field);
  if (!password.isWellFormed()) throw invalidRequest(`${field} must be valid Unicode text (it has a lone surrogate)`);
}

/**
 * Throws 400 unless `password` is 8–1024 code points after NFKC normalisation: the login check, of
 * length only. A password that is not well-formed passes here and never matches (the hasher refuses
 * it), so it fails like any wrong password, 401 `invalid_credentials`.
 */
export function checkLoginPassword(password: string, field = 'password'): void {
  // Bound the work before normalising: NFKC can expand, but never shrinks below a quarter.
  if (password.length > PASSWORD_MAX * 4) throw invalidRequest(`${field} must be at most ${PASSWORD_MAX} characters`);
  const length = passwordLength(password);
  if (length < PASSWORD_MIN || length > PASSWORD_MAX) {
    throw invalidRequest(`${field} must be ${PASSWORD_MIN} to ${PASSWORD_MAX} characters long`);
  }
}
