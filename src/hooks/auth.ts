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

import { ReasonCode } from "../../packets/reason_code.ts";
import type { ConnectPacket } from "../../packets/types.ts";
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

/**
 * How {@linkcode passwordAuth} binds client ids to user names:
 *
 * - `"none"`: any client may use any client id;
 * - `"exact"`: a client with a user name must use that user name as its
 *   client id;
 * - `"prefix"`: a client with a user name must use that user name as its
 *   client id, or the user name, a `:` and anything after it (`alice`,
 *   `alice:1`, `alice:kitchen`). User names cannot hold `:`, so no user can
 *   claim another user's ids.
 *
 * With `"exact"` or `"prefix"`, an anonymous client may not use a client id
 * that belongs to a known user (one equal to a user name, or a user name
 * followed by `:`).
 */
export type ClientIdBinding = "none" | "exact" | "prefix";

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
  /**
   * Whether client ids are bound to user names (see
   * {@linkcode ClientIdBinding}); `"none"` by default. A client id the
   * binding does not allow is refused with "client identifier not valid"
   * (0x85; CONNACK return code 2 before 5.0).
   */
  clientIdBinding?: ClientIdBinding;
  /**
   * Password checks (PBKDF2 runs) at once; 2 by default. Others wait in a
   * queue, first come first served.
   */
  maxConcurrentChecks?: number;
  /**
   * Password checks waiting for their turn; 1000 by default. Past it a
   * CONNECT is refused at once with "server busy" (0x89; CONNACK return code
   * 3, server unavailable, before 5.0). A waiting check whose connection
   * closes leaves the queue without running.
   */
  maxQueuedChecks?: number;
  /**
   * Seconds a failed check (a user name with a wrong password) is
   * remembered, so the same wrong password is refused again without running
   * PBKDF2; 10 by default, 0 remembers none. Only failures are remembered:
   * a right password always runs a full check.
   */
  failureCacheTime?: number;
  /** Failed checks remembered at most; 10,000 by default. Past it the oldest is forgotten. */
  failureCacheSize?: number;
  /**
   * Checks a password against a hash; {@linkcode verifyPassword} by default.
   * Tests count calls with it; it may also check another hash scheme.
   */
  verify?: (password: Uint8Array, hash: string) => Promise<boolean>;
  /** Current time in milliseconds, `Date.now` by default; tests fake it. */
  now?: () => number;
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
 * Checks cannot be flooded: at most `maxConcurrentChecks` run at once, at
 * most `maxQueuedChecks` wait (past it a CONNECT gets "server busy", 0x89 /
 * return code 3), a waiting check whose connection closed is skipped (the
 * `signal` of `checkConnect`), and a wrong password tried again within
 * `failureCacheTime` is refused without running PBKDF2. With
 * `clientIdBinding`, client ids are bound to user names (0x85 / return code
 * 2 otherwise).
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
 *     clientIdBinding: "prefix", // alice connects as "alice" or "alice:..."
 *   }),
 * });
 * server.listen({ hostname: "127.0.0.1", port: 0 });
 * await server.start();
 * await server.stop();
 * ```
 * @param options Users, whether anonymous clients may connect, the client
 * id binding and the limits of password checks.
 * @returns Hooks with a `checkConnect` member.
 * @throws {TypeError} If a user name, a hash or the binding is not valid.
 * @throws {RangeError} If a limit is out of range.
 */
export function passwordAuth(options: PasswordAuthOptions = {}): Hooks {
  const what = "Cannot create password auth";
  const users = new Map<string, string>(
    options.users instanceof Map
      ? options.users
      : Object.entries(options.users ?? {}),
  );
  let decoy: string | undefined;
  for (const [username, hash] of users) {
    checkUsername(username, what);
    if (parsePasswordHash(hash) === undefined) {
      throw new TypeError(
        `${what}: the password of ${
          JSON.stringify(username)
        } is not a $${SCHEME}$ hash`,
      );
    }
    decoy ??= hash;
  }
  const allowAnonymous = options.allowAnonymous ?? users.size === 0;
  const binding = options.clientIdBinding ?? "none";
  if (binding !== "none" && binding !== "exact" && binding !== "prefix") {
    throw new TypeError(
      `${what}: clientIdBinding must be "none", "exact" or "prefix", got ${
        JSON.stringify(binding)
      }`,
    );
  }
  const limiter = new CheckLimiter(
    limit(what, "maxConcurrentChecks", options.maxConcurrentChecks, 2, 1),
    limit(what, "maxQueuedChecks", options.maxQueuedChecks, 1000, 0),
  );
  const failures = new FailureCache(
    limit(what, "failureCacheTime", options.failureCacheTime, 10, 0) * 1000,
    limit(what, "failureCacheSize", options.failureCacheSize, 10_000, 0),
    options.now ?? Date.now,
  );
  const verify = options.verify ?? verifyPassword;
  /** Whether a client id is one that belongs to a known user. */
  const ownedId = (clientId: string): boolean =>
    users.has(binding === "prefix" ? clientId.split(":", 1)[0]! : clientId);
  return {
    async checkConnect(
      client: ClientInfo,
      packet: ConnectPacket,
      signal?: AbortSignal,
    ): Promise<Awaited<Verdict>> {
      const username = packet.username;
      if (username === undefined) {
        if (!allowAnonymous) return ReasonCode.NotAuthorized;
        return binding !== "none" && ownedId(client.clientId)
          ? ReasonCode.ClientIdentifierNotValid
          : undefined;
      }
      const hash = users.get(username);
      const password = packet.password ?? new Uint8Array(0);
      const key = await failures.key(username, password);
      if (failures.has(key)) return ReasonCode.BadUserNameOrPassword;
      if (!limiter.hasRoom) return ReasonCode.ServerBusy;
      if (!await limiter.acquire(signal)) return ReasonCode.UnspecifiedError;
      let ok = false;
      try {
        // The connection may have closed while the check waited.
        if (signal?.aborted) return ReasonCode.UnspecifiedError;
        // Checks of the same wrong password that waited behind the first
        // one need no PBKDF2 of their own.
        if (failures.has(key)) return ReasonCode.BadUserNameOrPassword;
        if (hash !== undefined) ok = await verify(password, hash);
        // An unknown user spends the time a known one costs, so timing
        // tells nothing.
        else if (decoy !== undefined) await verify(password, decoy);
      } finally {
        limiter.release();
      }
      if (!ok || packet.password === undefined) {
        failures.add(key);
        return ReasonCode.BadUserNameOrPassword;
      }
      if (binding === "exact" && client.clientId !== username) {
        return ReasonCode.ClientIdentifierNotValid;
      }
      if (
        binding === "prefix" && client.clientId !== username &&
        !client.clientId.startsWith(`${username}:`)
      ) {
        return ReasonCode.ClientIdentifierNotValid;
      }
      return undefined;
    },
  };
}

/**
 * Lets a bounded number of password checks run at once and queues a bounded
 * number more; a queued check whose signal aborts leaves the queue.
 */
class CheckLimiter {
  readonly #max: number;
  readonly #maxQueued: number;
  #running = 0;
  /** Waiting checks, oldest first; each is called when its turn comes. */
  readonly #waiting: Set<() => void> = new Set();

  constructor(max: number, maxQueued: number) {
    this.#max = max;
    this.#maxQueued = maxQueued;
  }

  /** Whether a check can run now or wait in the queue. */
  get hasRoom(): boolean {
    return this.#running < this.#max || this.#waiting.size < this.#maxQueued;
  }

  /**
   * Waits for a turn; resolves false (holding no turn) if `signal` aborted
   * first. A true answer must be followed by {@linkcode release}.
   */
  acquire(signal: AbortSignal | undefined): Promise<boolean> {
    if (signal?.aborted) return Promise.resolve(false);
    if (this.#running < this.#max) {
      this.#running++;
      return Promise.resolve(true);
    }
    return new Promise((resolve) => {
      const onAbort = (): void => {
        this.#waiting.delete(turn);
        resolve(false);
      };
      const turn = (): void => {
        signal?.removeEventListener("abort", onAbort);
        resolve(true);
      };
      this.#waiting.add(turn);
      signal?.addEventListener("abort", onAbort, { once: true });
    });
  }

  /** Ends a check: the turn goes to the oldest waiting check. */
  release(): void {
    for (const next of this.#waiting) {
      this.#waiting.delete(next);
      next(); // the turn passes on; #running stays the same
      return;
    }
    this.#running--;
  }
}

/**
 * Recently failed checks by user name and a salted SHA-256 of the password,
 * each for a while; the oldest is forgotten first when full.
 */
class FailureCache {
  readonly #ttl: number;
  readonly #size: number;
  readonly #now: () => number;
  /** Key to when it is forgotten; insertion order is age. */
  readonly #entries: Map<string, number> = new Map();
  /** Salts the password digests, so the keys held tell nothing outside. */
  readonly #salt: Uint8Array = crypto.getRandomValues(new Uint8Array(16));
  /** The digest asked for last: each waits for the one before. */
  #lastKey: Promise<unknown> = Promise.resolve();

  constructor(ttl: number, size: number, now: () => number) {
    this.#ttl = ttl;
    this.#size = size;
    this.#now = now;
  }

  /**
   * The cache key of a user name and password; "" when caching is off.
   * Keys resolve in the order they were asked for (WebCrypto digests may
   * finish in any order), so that checks reach the limiter as they came.
   */
  key(username: string, password: Uint8Array): Promise<string> {
    if (this.#ttl === 0 || this.#size === 0) return Promise.resolve("");
    const input = new Uint8Array(this.#salt.length + password.length);
    input.set(this.#salt);
    input.set(password, this.#salt.length);
    const digest = crypto.subtle.digest("SHA-256", input);
    // Its failure is taken by `key` below, maybe after later digests.
    digest.catch(() => {});
    const key = this.#lastKey.then(() => digest).then((hash) =>
      // User names never hold U+0000 [MQTT-1.5.4-2].
      `${username}\u0000${toBase64(new Uint8Array(hash))}`
    );
    // A failed digest fails its own check, not the ones after it.
    this.#lastKey = key.catch(() => {});
    return key;
  }

  has(key: string): boolean {
    if (key === "") return false;
    const until = this.#entries.get(key);
    if (until === undefined) return false;
    if (until > this.#now()) return true;
    this.#entries.delete(key);
    return false;
  }

  add(key: string): void {
    if (key === "") return;
    this.#entries.delete(key);
    this.#entries.set(key, this.#now() + this.#ttl);
    if (this.#entries.size > this.#size) {
      for (const oldest of this.#entries.keys()) {
        this.#entries.delete(oldest);
        break;
      }
    }
  }
}

function limit(
  what: string,
  name: string,
  value: number | undefined,
  fallback: number,
  min: number,
): number {
  if (value === undefined) return fallback;
  if (!Number.isInteger(value) || value < min) {
    throw new RangeError(
      `${what}: ${name} must be an integer of ${min} or more, got ${value}`,
    );
  }
  return value;
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
