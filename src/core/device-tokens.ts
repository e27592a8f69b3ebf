/**
 * Device tokens: OWASP's "device cookies" against lockout abuse (the contract's Rate limits). Every
 * completed sign-in leaves the browser an entry naming the user; later password checks for that
 * user presenting it are limited per device instead of per username, so strangers failing at the
 * username cannot lock its owner out of a browser they have signed in from before.
 *
 * An entry is `<id>.<user id>.<mac>`: a random id (the device's throttle key), the user id, and an
 * HMAC-SHA256 (truncated to 128 bits) over both and the user's device epoch, under a key derived
 * from the server-only refresh secret (never the access-token secret, which resource services
 * hold). Logout-all and suspension bump the epoch, which ends every entry of the user; deletion
 * removes the user, whose id is never reused. A password change leaves the epoch alone.
 *
 * One cookie carries up to {@link MAX_DEVICE_ENTRIES} entries, oldest first, one per user.
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

/** Users one browser keeps device entries for; signing in as a sixth drops the oldest entry. */
export const MAX_DEVICE_ENTRIES = 5;

/** Separates entries in the cookie value (a cookie-octet that base64url and UUIDs never use). */
const ENTRY_SEPARATOR = '~';
const KEY_LABEL = 'hush device key v1';
const ENTRY = /^([A-Za-z0-9_-]{22})\.([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})\.([A-Za-z0-9_-]{22})$/;
/** Longer values are not ours (five entries take 414 characters): ignored unread. */
const MAX_VALUE_LENGTH = 1024;

/** A well-formed entry, not yet verified. */
export interface DeviceEntry {
  /** The random device id: the key of the device's own failure count. */
  readonly id: string;
  readonly userId: string;
  readonly mac: string;
}

/** The user state an entry is bound to. */
export interface DeviceHolder {
  readonly id: string;
  readonly deviceEpoch: number;
}

/** Issues and verifies device-cookie entries. */
export class DeviceTokens {
  readonly #key: Buffer;

  /** `refreshSecret` is `HUSH_REFRESH_SECRET`; the device key is derived from it under its own label. */
  constructor(refreshSecret: string) {
    // The refresh codec derives its keys from length-prefixed inputs starting "19:hush refresh key",
    // so this input can never be one of them.
    this.#key = createHmac('sha256', Buffer.from(refreshSecret, 'utf8')).update(KEY_LABEL).digest();
  }

  /** A fresh entry for `user` (a new random id), bound to the user's current device epoch. */
  issue(user: DeviceHolder): string {
    const id = randomBytes(16).toString('base64url');
    return `${id}.${user.id}.${this.#mac(id, user)}`;
  }

  /** The well-formed entries of a cookie value, oldest first, at most {@link MAX_DEVICE_ENTRIES}. */
  parse(value: string | undefined): DeviceEntry[] {
    if (value === undefined || value.length === 0 || value.length > MAX_VALUE_LENGTH) return [];
    const entries: DeviceEntry[] = [];
    for (const part of value.split(ENTRY_SEPARATOR)) {
      const match = ENTRY.exec(part);
      if (match) entries.push({ id: match[1]!, userId: match[2]!, mac: match[3]! });
    }
    return entries.slice(-MAX_DEVICE_ENTRIES);
  }

  /** The entry among `entries` that is valid for `user` now, if any. HMACs compared in constant time. */
  match(entries: readonly DeviceEntry[], user: DeviceHolder): DeviceEntry | undefined {
    for (const entry of entries) {
      if (entry.userId !== user.id) continue;
      // Both sides are 22 ASCII characters (the pattern guarantees it for the presented one).
      if (timingSafeEqual(Buffer.from(this.#mac(entry.id, user)), Buffer.from(entry.mac))) return entry;
    }
    return undefined;
  }

  /**
   * The cookie value after a sign-in: `current`'s well-formed entries without any other of the
   * entry's user, then `entry`, keeping the newest {@link MAX_DEVICE_ENTRIES}.
   */
  add(current: string | undefined, entry: string): string {
    const added = ENTRY.exec(entry);
    if (!added) throw new TypeError('not a device entry');
    const userId = added[2];
    const kept = this.parse(current)
      .filter((e) => e.userId !== userId)
      .map((e) => `${e.id}.${e.userId}.${e.mac}`);
    return [...kept, entry].slice(-MAX_DEVICE_ENTRIES).join(ENTRY_SEPARATOR);
  }

  #mac(id: string, user: DeviceHolder): string {
    // Length-prefixed fields: no two (id, user, epoch) triples serialise alike.
    const input = [id, user.id, String(user.deviceEpoch)].map((part) => `${part.length}:${part};`).join('');
    return createHmac('sha256', this.#key).update(input).digest().subarray(0, 16).toString('base64url');
  }
}
