/**
 * {@linkcode RedisClient}: commands over one connection, pipelined
 * automatically, with reconnection.
 *
 * @module
 */

import { Link } from "./_link.ts";
import { type RedisClientOptions, resolveRedisOptions } from "./options.ts";
import { RedisSubscriber, type RedisSubscriberOptions } from "./subscriber.ts";
import type { RedisArgument, RedisReply } from "./types.ts";
import { parseRedisUrl, type RedisUrl } from "./url.ts";

/** Options for one {@linkcode RedisClient.send}. */
export interface RedisSendOptions {
  /**
   * Milliseconds to wait for the reply once sent, the client's
   * `commandTimeout` by default; 0 waits for ever (blocking commands).
   */
  timeout?: number;
}

/**
 * A connection to Redis for commands.
 *
 * **Pipelining.** Every command sent in the same event-loop turn leaves in
 * one write, and replies are matched in order; `await` each command or
 * gather many with `Promise.all`, the wire sees a pipeline either way.
 *
 * **Connection.** It connects on the first command (or `connect()`), says
 * `HELLO 3` with the URL's credentials (falling back to `AUTH` and RESP2),
 * and selects the URL's database. When an established connection is lost
 * it reconnects with backoff until `close()`. Commands in flight when it
 * was lost reject with a `RedisConnectionError`: they may or may not have
 * run, and the caller decides whether to send them again. Commands sent
 * while disconnected wait for the next connection, within
 * `maxOfflineCommands` and `offlineTimeout`. Before the first connection
 * succeeds, attempts are made only while a command or `connect()` waits.
 *
 * **Blocking commands** (`BLPOP`, `XREADGROUP ... BLOCK`) hold the
 * connection, and every command behind them waits: give them a client of
 * their own with {@linkcode RedisClient.duplicate}, and a `timeout` of 0 or
 * one longer than the block.
 *
 * **Pub/sub** needs a connection of its own:
 * {@linkcode RedisClient.subscriber}.
 *
 * @example Set and get a key
 * ```ts ignore
 * import { RedisClient, replyText } from "./mod.ts";
 *
 * await using redis = new RedisClient("redis://127.0.0.1:6379/0");
 * await redis.send(["SET", "greeting", "hello", "EX", 60]);
 * console.log(replyText(await redis.send(["GET", "greeting"])));
 * ```
 */
export class RedisClient implements AsyncDisposable {
  /** Where it connects. */
  readonly url: RedisUrl;
  readonly #options: RedisClientOptions;
  readonly #link: Link;

  /**
   * Creates a client; it connects on the first command or on `connect()`.
   *
   * @param url A Redis URL or one parsed by `parseRedisUrl`;
   * `redis://127.0.0.1:6379/0` by default.
   * @param options Timeouts, reconnection, TLS roots, callbacks.
   * @throws {TypeError} If the URL does not parse.
   * @throws {RangeError} If an option is out of range.
   */
  constructor(
    url: string | RedisUrl = "redis://127.0.0.1:6379",
    options: RedisClientOptions = {},
  ) {
    this.url = typeof url === "string" ? parseRedisUrl(url) : url;
    this.#options = options;
    this.#link = new Link(this.url, resolveRedisOptions(options), {
      pubsub: false,
      onMessage: () => {},
    });
  }

  /** Whether a connection is ready for commands. */
  get connected(): boolean {
    return this.#link.ready;
  }

  /**
   * Bytes of commands sent and not yet written to Redis: those waiting
   * for the socket (Redis reads slower than they come), and those held
   * while no connection is ready. A caller that produces commands faster
   * than Redis takes them can watch it and shed load.
   */
  get unwritten(): number {
    return this.#link.unwritten;
  }

  /** The protocol of the ready connection (2 or 3), if connected. */
  get protocol(): 2 | 3 | undefined {
    return this.#link.protocol;
  }

  /**
   * Connects now rather than on the first command; resolves at once if
   * connected. Use it at start-up to fail fast on a wrong URL or password.
   *
   * @returns When a connection is ready.
   * @throws {RedisConnectionError} With the URL (password masked) and the
   * reason, if the next attempt fails; a `RedisTimeoutError` if it took
   * longer than `connectTimeout`. Commands that wait keep it trying.
   */
  connect(): Promise<void> {
    return this.#link.connect();
  }

  /**
   * Sends one command.
   *
   * @example Count with INCR
   * ```ts ignore
   * import { RedisClient, replyNumber } from "./mod.ts";
   *
   * await using redis = new RedisClient();
   * const n = replyNumber(await redis.send(["INCR", "visits"]));
   * ```
   * @param args The command's name and arguments; bytes are sent as they
   * are and copied before this returns.
   * @param options A timeout for this command.
   * @returns The reply (see `RedisReply` for the types).
   * @throws {RedisError} If Redis answers with an error; its message has
   * Redis's text and the command's name.
   * @throws {RedisConnectionError} If the connection is lost before the
   * reply, cannot be made in time, or the client is closed.
   * @throws {RedisTimeoutError} If the reply takes longer than the timeout.
   * @throws {TypeError} If an argument is not a string, number or bytes.
   */
  send(
    args: readonly RedisArgument[],
    options?: RedisSendOptions,
  ): Promise<RedisReply> {
    return this.#link.send(
      args,
      false,
      options?.timeout ?? this.#link.options.commandTimeout,
      1,
    );
  }

  /**
   * Sends commands together and returns every reply. An error reply is a
   * `RedisError` in the results, not a rejection; wrap the batch in
   * `MULTI` and `EXEC` to make it atomic.
   *
   * @example Write two keys and read one back
   * ```ts ignore
   * import { RedisClient } from "./mod.ts";
   *
   * await using redis = new RedisClient();
   * const [, , value] = await redis.pipeline([
   *   ["SET", "a", "1"],
   *   ["SET", "b", "2"],
   *   ["GET", "a"],
   * ]);
   * ```
   * @param commands The commands, in order.
   * @param options A timeout for each command.
   * @returns One reply per command, in order.
   * @throws {RedisConnectionError} If the connection is lost before the
   * last reply (some commands may have run), or, with nothing sent, if no
   * connection is ready and the batch does not fit in `maxOfflineCommands`.
   * @throws {TypeError} If an argument is not a string, number or bytes;
   * nothing is sent then.
   */
  pipeline(
    commands: readonly (readonly RedisArgument[])[],
    options?: RedisSendOptions,
  ): Promise<RedisReply[]> {
    try {
      this.#link.check(commands);
    } catch (error) {
      return Promise.reject(error);
    }
    const timeout = options?.timeout ?? this.#link.options.commandTimeout;
    return Promise.all(
      commands.map((args) => this.#link.send(args, true, timeout, 1)),
    );
  }

  /**
   * A new client to the same Redis with the same options (changed by
   * `options`), on a connection of its own: for blocking commands.
   *
   * @example Wait on a list without holding up other commands
   * ```ts ignore
   * import { RedisClient } from "./mod.ts";
   *
   * await using redis = new RedisClient();
   * await using blocking = redis.duplicate({ commandTimeout: 0 });
   * const popped = blocking.send(["BLPOP", "jobs", 0]);
   * await redis.send(["RPUSH", "jobs", "first"]);
   * await popped;
   * ```
   * @param options Options to change.
   * @returns The new client, not connected yet.
   */
  duplicate(options: RedisClientOptions = {}): RedisClient {
    return new RedisClient(this.url, { ...this.#options, ...options });
  }

  /**
   * A {@linkcode RedisSubscriber} to the same Redis with the same options
   * (changed by `options`), on a connection of its own.
   *
   * @param options Options to change, and the message handler.
   * @returns The subscriber, not connected yet.
   */
  subscriber(options: RedisSubscriberOptions = {}): RedisSubscriber {
    return new RedisSubscriber(this.url, { ...this.#options, ...options });
  }

  /**
   * Stops: commands waiting or in flight reject with a
   * `RedisConnectionError`, the connection is closed and no reconnection
   * is tried. Safe to call twice.
   *
   * @returns When the connection is closed.
   */
  close(): Promise<void> {
    return this.#link.close();
  }

  /** Same as `close()`, for `await using`. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }
}
