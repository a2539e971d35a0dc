/**
 * The Redis client's vocabulary: what a command is made of, what a reply
 * decodes to, and the errors a command can end with.
 *
 * @module
 */

/**
 * One argument of a command. Strings are sent as UTF-8, numbers as decimal
 * text (`Infinity` as `+inf`), and bytes as they are, so any payload
 * round-trips unchanged.
 */
export type RedisArgument = string | Uint8Array | number;

/**
 * A decoded reply. RESP2 and RESP3 decode to the same values wherever RESP2
 * has an equivalent, so calling code does not depend on the protocol
 * version:
 *
 * | Redis type                    | value                                     |
 * | ----------------------------- | ----------------------------------------- |
 * | simple string (`+OK`)         | `string`                                  |
 * | bulk string                   | `Uint8Array` (binary safe), `null` if nil |
 * | verbatim string (RESP3)       | `Uint8Array` of the text, format dropped  |
 * | integer                       | `number`; `bigint` past 2^53              |
 * | double (RESP3)                | `number` (`inf`, `-inf`, `nan` included)  |
 * | big number (RESP3)            | `bigint`                                  |
 * | boolean (RESP3)               | `boolean`                                 |
 * | null (RESP3), nil array       | `null`                                    |
 * | array, set (RESP3)            | `RedisReply[]`                            |
 * | map (RESP3)                   | `RedisReply[]` of keys and values in turn, as RESP2 sends a hash |
 * | error inside an array         | a {@linkcode RedisError} value            |
 *
 * A top-level error reply rejects the command with a {@linkcode RedisError}
 * (in a pipeline it is a value of the result array). RESP3 attributes are
 * skipped; push frames never answer a command (see `RedisSubscriber`).
 */
export type RedisReply =
  | string
  | Uint8Array
  | number
  | bigint
  | boolean
  | null
  | RedisError
  | RedisReply[];

/**
 * An error reply from Redis, such as `WRONGTYPE Operation against a key
 * holding the wrong kind of value`.
 *
 * @example Read the error code of a refused command
 * ```ts
 * import { RedisError } from "./mod.ts";
 * import { strictEqual } from "node:assert/strict";
 *
 * const error = new RedisError("WRONGTYPE Operation against a key", "GET");
 * strictEqual(error.code, "WRONGTYPE");
 * strictEqual(error.message, "Redis refused GET: WRONGTYPE Operation against a key");
 * ```
 */
export class RedisError extends Error {
  /** The first word of the reply, such as `ERR`, `WRONGTYPE`, `NOAUTH`. */
  readonly code: string;
  /** The reply as Redis sent it. */
  readonly reply: string;
  /** The command's name as sent, if the error answered a whole command. */
  readonly command: string | undefined;

  /**
   * Wraps an error reply.
   *
   * @param reply The error text as Redis sent it, without the `-`.
   * @param command The command it answered, if known.
   */
  constructor(reply: string, command?: string) {
    super(
      command === undefined
        ? `Redis replied with an error: ${reply}`
        : `Redis refused ${command}: ${reply}`,
    );
    this.name = "RedisError";
    this.reply = reply;
    const space = reply.indexOf(" ");
    this.code = space < 0 ? reply : reply.slice(0, space);
    this.command = command;
  }
}

/**
 * The connection to Redis could not be made, was lost, or was closed. A
 * command that rejects with it may or may not have run: the caller decides
 * whether to send it again.
 */
export class RedisConnectionError extends Error {
  /**
   * Makes the error.
   *
   * @param message What could not be done, then why.
   * @param options The underlying error as `cause`.
   */
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "RedisConnectionError";
  }
}

/**
 * Redis did not answer in time. The connection is reset, so like any
 * {@linkcode RedisConnectionError} the command may or may not have run.
 */
export class RedisTimeoutError extends RedisConnectionError {
  /**
   * Makes the error.
   *
   * @param message What did not finish, and the time it had.
   * @param options The underlying error as `cause`.
   */
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "RedisTimeoutError";
  }
}

/**
 * Bytes from the server that are not RESP. The client logs it, drops the
 * connection and reconnects; commands in flight reject with a
 * {@linkcode RedisConnectionError} whose `cause` is this error.
 */
export class RedisProtocolError extends Error {
  /**
   * Makes the error.
   *
   * @param message What could not be decoded, then the detail.
   */
  constructor(message: string) {
    super(message);
    this.name = "RedisProtocolError";
  }
}
