/**
 * Built-in authentication: PBKDF2-SHA256 password hashes, password files and
 * a `checkConnect` hook that checks user names and passwords against them.
 *
 * A hash is one string, `$pbkdf2-sha256$<iterations>$<salt>$<hash>`, where
 * salt and hash are standard base64 (RFC 4648, section 4, with padding) and
 * the hash is PBKDF2 with HMAC-SHA-256 (WebCrypto) over the UTF-8 password.
 * A password file has one `username:hash` per line; blank lines and lines
 * starting with `#` are ignored.
 *
 * @module
 */

import { ReasonCode } from "../packets/reason_code.ts";
import type { ConnectPacket } from "../packets/types.ts";
import type { ClientInfo, Hooks, Verdict } from "./hooks.ts";

/**
 * PBKDF2 iterations of a new hash by default: 100,000, about 13 ms per check
 * on our build machines (Deno 2.9.6). Each hash records its own count, so
 * changing this never breaks stored hashes.
 *
 * @example Hash with the default iterations
 * ```ts
 * import { DEFAULT_PBKDF2_ITERATIONS, hashPassword } from "@gmqtt/broker";
 * import { strictEqual } from "node:assert/strict";
 *
 * const hash = await hashPassword("pw");
 * strictEqual(hash.split("$")[2], String(DEFAULT_PBKDF2_ITERATIONS));
 * ```
 */
export const DEFAULT_PBKDF2_ITERATIONS = 100_000;

const SCHEME = "pbkdf2-sha256";
const SALT_BYTES = 16;
const HASH_BYTES = 32;
const MAX_ITERATIONS = 10_000_000;
const BASE64_RE = /^[A-Za-z0-9+/]+={0,2}$/;

/** Options for {@linkcode hashPassword}. */
export interface HashPasswordOptions {
  /** PBKDF2 iterations, 1 to 10,000,000; {@linkcode DEFAULT_PBKDF2_ITERATIONS} by default. */
  iterations?: number;
  /** Salt, 8 bytes or more; 16 random bytes by default. */
  salt?: Uint8Array;
}

/** The parts of a password hash, from {@linkcode parsePasswordHash}. */
export interface PasswordHash {
  /** PBKDF2 iterations. */
  readonly iterations: number;
  /** The salt. */
  readonly salt: Uint8Array;
  /** The derived key; its length is the length derived when checking. */
  readonly hash: Uint8Array;
}

/** Options for {@linkcode passwordAuth}. */
export interface PasswordAuthOptions {
  /**
   * User names and their password hashes: an object, a `Map`, or the lines
   * of a password file read with {@linkcode parsePasswordFile}. None by
   * default.
   */
  users?: Readonly<Record<string, string>> | ReadonlyMap<string, string>;
  /**
   * Whether a client that sends no user name may connect; `true` by default
   * when `users` is empty, `false` otherwise. A client that sends a user name
   * is always checked.
   */
  allowAnonymous?: boolean;
}

/**
 * Hashes a password with PBKDF2-SHA256 into the string form that
 * {@linkcode verifyPassword}, {@linkcode passwordAuth} and password files
 * take.
 *
 * @example Hash a password and check it
 * ```ts
 * import { hashPassword, verifyPassword } from "@gmqtt/broker";
 * import { strictEqual } from "node:assert/strict";
 *
 * const hash = await hashPassword("s3cret", { iterations: 1000 });
 * strictEqual(hash.startsWith("$pbkdf2-sha256$1000$"), true);
 * strictEqual(await verifyPassword("s3cret", hash), true);
 * strictEqual(await verifyPassword("guess", hash), false);
 * ```
 * @param password The password; a string is taken as UTF-8.
 * @param options Iterations and salt; a random salt by default.
 * @returns `$pbkdf2-sha256$<iterations>$<salt base64>$<hash base64>`.
 * @throws {RangeError} If the iterations or the salt are out of range.
 */
export async function hashPassword(
  password: string | Uint8Array,
  options: HashPasswordOptions = {},
): Promise<string> {
  const iterations = options.iterations ?? DEFAULT_PBKDF2_ITERATIONS;
  checkIterations(iterations, "Cannot hash password");
  const salt = options.salt ??
    crypto.getRandomValues(new Uint8Array(SALT_BYTES));
  if (salt.length < 8) {
    throw new RangeError(
      `Cannot hash password: the salt must have 8 bytes or more, got ${salt.length}`,
    );
  }
  const hash = await derive(password, salt, iterations, HASH_BYTES);
  return `$${SCHEME}$${iterations}$${toBase64(salt)}$${toBase64(hash)}`;
}

/**
 * Splits a password hash into its parts, or tells that a string is not one
 * (a plain-text password, say).
 *
 * @example Tell a hash from a plain-text password
 * ```ts
 * import { parsePasswordHash } from "@gmqtt/broker";
 * import { strictEqual } from "node:assert/strict";
 *
 * strictEqual(parsePasswordHash("hunter2"), undefined);
 * const parts = parsePasswordHash(
 *   "$pbkdf2-sha256$1000$c2FsdHNhbHRzYWx0$" +
 *     "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=",
 * );
 * strictEqual(parts?.iterations, 1000);
 * strictEqual(parts?.hash.length, 32);
 * ```
 * @param hash The string to read.
 * @returns Its parts, or `undefined` if it is not a well-formed hash.
 */
export function parsePasswordHash(hash: string): PasswordHash | undefined {
  const parts = hash.split("$");
  if (parts.length !== 5 || parts[0] !== "" || parts[1] !== SCHEME) {
    return undefined;
  }
  const [, , iterationsText = "", saltText = "", hashText = ""] = parts;
  if (!/^[1-9][0-9]{0,7}$/.test(iterationsText)) return undefined;
  const iterations = Number(iterationsText);
  if (iterations > MAX_ITERATIONS) return undefined;
  const salt = fromBase64(saltText);
  const derived = fromBase64(hashText);
  if (salt === undefined || salt.length < 8) return undefined;
  if (derived === undefined || derived.length < 16 || derived.length > 64) {
    return undefined;
  }
  return { iterations, salt, hash: derived };
}

/**
 * Checks a password against a hash from {@linkcode hashPassword}, comparing
 * in constant time.
 *
 * @example Check a password from a CONNECT packet
 * ```ts
 * import { hashPassword, verifyPassword } from "@gmqtt/broker";
 * import { strictEqual } from "node:assert/strict";
 *
 * const hash = await hashPassword("pa55", { iterations: 1000 });
 * const fromPacket = new TextEncoder().encode("pa55");
 * strictEqual(await verifyPassword(fromPacket, hash), true);
 * ```
 * @param password The password; a string is taken as UTF-8.
 * @param hash A hash in the `$pbkdf2-sha256$...` form.
 * @returns Whether the password is the one hashed.
 * @throws {TypeError} If `hash` is not a well-formed hash.
 */
export async function verifyPassword(
  password: string | Uint8Array,
  hash: string,
): Promise<boolean> {
  const parsed = parsePasswordHash(hash);
  if (parsed === undefined) {
    throw new TypeError(
      `Cannot verify password: the hash is not in the form $${SCHEME}$<iterations>$<salt>$<hash>`,
    );
  }
  const derived = await derive(
    password,
    parsed.salt,
    parsed.iterations,
    parsed.hash.length,
  );
  return constantTimeEqual(derived, parsed.hash);
}

/**
 * Reads the text of a password file: one `username:hash` per line, blank
 * lines and lines starting with `#` ignored. The user name is everything
 * before the first `:`.
 *
 * @example Read a password file
 * ```ts
 * import { parsePasswordFile } from "@gmqtt/broker";
 * import { deepStrictEqual } from "node:assert/strict";
 *
 * const users = parsePasswordFile(
 *   "# users\nalice:$pbkdf2-sha256$1000$c2FsdHNhbHRz$AAAAAAAAAAAAAAAAAAAAAA==\n",
 * );
 * deepStrictEqual([...users.keys()], ["alice"]);
 * ```
 * @param text The file's text.
 * @returns User names and hashes, in file order.
 * @throws {SyntaxError} If a line has no `:`, an empty user name, a user
 * name seen before, or a value that is not a well-formed hash; the message
 * names the line.
 */
export function parsePasswordFile(text: string): Map<string, string> {
  const users = new Map<string, string>();
  const lines = text.split("\n");
  for (let i = 0; i < lines.length; i++) {
    const line = (lines[i] ?? "").replace(/\r$/, "");
    if (line.trim() === "" || line.trimStart().startsWith("#")) continue;
    const colon = line.indexOf(":");
    const where = `Cannot read password file: line ${i + 1}`;
    if (colon <= 0) {
      throw new SyntaxError(`${where}: expected "username:hash"`);
    }
    const username = line.slice(0, colon);
    const hash = line.slice(colon + 1).trim();
    if (users.has(username)) {
      throw new SyntaxError(
        `${where}: user ${JSON.stringify(username)} is listed twice`,
      );
    }
    if (parsePasswordHash(hash) === undefined) {
      throw new SyntaxError(
        `${where}: the password of ${
          JSON.stringify(username)
        } is not a $${SCHEME}$ hash (plain-text passwords are refused)`,
      );
    }
    users.set(username, hash);
  }
  return users;
}

/**
 * Writes a password file's text with one user added or its hash replaced,
 * keeping the other lines (comments included) as they are.
 *
 * @example Add a user to a password file
 * ```ts
 * import { hashPassword, setPasswordFileUser } from "@gmqtt/broker";
 * import { strictEqual } from "node:assert/strict";
 *
 * const hash = await hashPassword("pw", { iterations: 1000 });
 * const text = setPasswordFileUser("# users\n", "bob", hash);
 * strictEqual(text, `# users\nbob:${hash}\n`);
 * ```
 * @param text The file's current text; "" for a new file.
 * @param username The user name: not empty, no `:` and no line break.
 * @param hash The user's password hash.
 * @returns The file's new text, ending with a line break.
 * @throws {TypeError} If the user name or the hash is not valid.
 */
export function setPasswordFileUser(
  text: string,
  username: string,
  hash: string,
): string {
  checkUsername(username, "Cannot set password");
  if (parsePasswordHash(hash) === undefined) {
    throw new TypeError(
      `Cannot set password: the hash is not in the form $${SCHEME}$<iterations>$<salt>$<hash>`,
    );
  }
  const lines = text === "" ? [] : text.replace(/\r?\n$/, "").split(/\r?\n/);
  const entry = `${username}:${hash}`;
  const at = lines.findIndex((line) => line.startsWith(`${username}:`));
  if (at === -1) lines.push(entry);
  else lines[at] = entry;
  return lines.join("\n") + "\n";
}

/**
 * Makes the hooks that authenticate clients by user name and password.
 *
 * A client with a user name connects only if the user is known and the
 * password checks against its hash; otherwise it gets "bad user name or
 * password" (0x86; CONNACK return code 4 before 5.0). A client without a
 * user name connects only if `allowAnonymous`; otherwise it gets "not
 * authorized" (0x87; return code 5). An unknown user costs as much time as
 * a known one, so timing does not tell which user names exist.
 *
 * @example Let two users in and nobody else
 * ```ts
 * import { hashPassword, passwordAuth, Server } from "@gmqtt/broker";
 *
 * const server = new Server({
 *   hooks: passwordAuth({
 *     users: {
 *       alice: await hashPassword("alice-pw", { iterations: 1000 }),
 *       bob: await hashPassword("bob-pw", { iterations: 1000 }),
 *     },
 *   }),
 * });
 * server.listen({ hostname: "127.0.0.1", port: 0 });
 * await server.start();
 * await server.stop();
 * ```
 * @param options Users and whether anonymous clients may connect.
 * @returns Hooks with a `checkConnect` member.
 * @throws {TypeError} If a user name or a hash is not valid.
 */
export function passwordAuth(options: PasswordAuthOptions = {}): Hooks {
  const users = new Map<string, string>(
    options.users instanceof Map
      ? options.users
      : Object.entries(options.users ?? {}),
  );
  let decoy: string | undefined;
  for (const [username, hash] of users) {
    checkUsername(username, "Cannot create password auth");
    if (parsePasswordHash(hash) === undefined) {
      throw new TypeError(
        `Cannot create password auth: the password of ${
          JSON.stringify(username)
        } is not a $${SCHEME}$ hash`,
      );
    }
    decoy ??= hash;
  }
  const allowAnonymous = options.allowAnonymous ?? users.size === 0;
  return {
    async checkConnect(
      _client: ClientInfo,
      packet: ConnectPacket,
    ): Promise<Awaited<Verdict>> {
      if (packet.username === undefined) {
        return allowAnonymous ? undefined : ReasonCode.NotAuthorized;
      }
      const hash = users.get(packet.username);
      const password = packet.password ?? new Uint8Array(0);
      if (hash === undefined) {
        // Spend the time a known user costs, so timing tells nothing.
        if (decoy !== undefined) await verifyPassword(password, decoy);
        return ReasonCode.BadUserNameOrPassword;
      }
      const ok = await verifyPassword(password, hash);
      if (!ok || packet.password === undefined) {
        return ReasonCode.BadUserNameOrPassword;
      }
      return undefined;
    },
  };
}

function checkUsername(username: string, what: string): void {
  if (username === "" || /[:\r\n]/.test(username)) {
    throw new TypeError(
      `${what}: user name ${
        JSON.stringify(username)
      } must not be empty or hold ":" or a line break`,
    );
  }
}

function checkIterations(iterations: number, what: string): void {
  if (
    !Number.isInteger(iterations) || iterations < 1 ||
    iterations > MAX_ITERATIONS
  ) {
    throw new RangeError(
      `${what}: iterations must be an integer from 1 to ${MAX_ITERATIONS}, got ${iterations}`,
    );
  }
}

async function derive(
  password: string | Uint8Array,
  salt: Uint8Array,
  iterations: number,
  bytes: number,
): Promise<Uint8Array> {
  const raw = typeof password === "string"
    ? new TextEncoder().encode(password)
    : password;
  const key = await crypto.subtle.importKey(
    "raw",
    raw.slice(),
    "PBKDF2",
    false,
    ["deriveBits"],
  );
  const bits = await crypto.subtle.deriveBits(
    { name: "PBKDF2", hash: "SHA-256", salt: salt.slice(), iterations },
    key,
    bytes * 8,
  );
  return new Uint8Array(bits);
}

/** Compares two byte arrays in time that depends only on their lengths. */
function constantTimeEqual(a: Uint8Array, b: Uint8Array): boolean {
  let diff = a.length ^ b.length;
  const length = Math.min(a.length, b.length);
  for (let i = 0; i < length; i++) diff |= a[i]! ^ b[i]!;
  return diff === 0;
}

function toBase64(bytes: Uint8Array): string {
  return btoa(String.fromCharCode(...bytes));
}

function fromBase64(text: string): Uint8Array | undefined {
  if (!BASE64_RE.test(text) || text.length % 4 === 1) return undefined;
  try {
    return Uint8Array.from(atob(text), (c) => c.charCodeAt(0));
  } catch {
    return undefined;
  }
}
