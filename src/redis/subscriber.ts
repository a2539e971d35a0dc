/**
 * Redis pub/sub on a connection of its own: what is subscribed is
 * remembered and subscribed again on every new connection, and the owner
 * hears of each reconnection so it can catch up on what it missed.
 *
 * @module
 */

import { Link } from "./_link.ts";
import { type RedisClientOptions, resolveRedisOptions } from "./options.ts";
import { RedisError, type RedisReply } from "./types.ts";
import { parseRedisUrl, type RedisUrl } from "./url.ts";

const UTF8_DECODER = new TextDecoder();

/**
 * Receives a published message.
 *
 * @param channel The channel it was published on.
 * @param message The payload, as sent; the receiver may keep it.
 * @param pattern The pattern that matched, for a `psubscribe`; otherwise
 * `undefined`.
 */
export type RedisMessageHandler = (
  channel: string,
  message: Uint8Array,
  pattern: string | undefined,
) => void;

/** Options for {@linkcode RedisSubscriber}. */
export interface RedisSubscriberOptions extends RedisClientOptions {
  /**
   * Receives every message of the channels and patterns subscribed to; a
   * throw is logged and passed to `onError`. None by default.
   */
  onMessage?: RedisMessageHandler;
}

/**
 * A pub/sub connection. `subscribe` and `psubscribe` resolve once Redis
 * confirms; what is subscribed stays subscribed across reconnections until
 * `unsubscribe`. After a reconnection `onConnect` is called with
 * `reconnected: true` once everything is subscribed again: messages
 * published while disconnected were lost, and the owner may catch up.
 *
 * A subscription is remembered even if its promise rejects with a
 * `RedisConnectionError` (it is made on the next connection); one that
 * Redis refuses (a `RedisError`, such as an ACL's `NOPERM`) is forgotten.
 *
 * @example Subscribe and publish
 * ```ts ignore
 * import { RedisClient, RedisSubscriber } from "./mod.ts";
 *
 * await using subscriber = new RedisSubscriber("redis://127.0.0.1:6379", {
 *   onMessage: (channel, message) => console.log(channel, message),
 * });
 * await subscriber.subscribe("news");
 * await using client = new RedisClient("redis://127.0.0.1:6379");
 * await client.send(["PUBLISH", "news", "hello"]);
 * ```
 */
export class RedisSubscriber implements AsyncDisposable {
  /** Where it connects. */
  readonly url: RedisUrl;
  readonly #link: Link;
  readonly #channels = new Set<string>();
  readonly #patterns = new Set<string>();
  readonly #onMessage: RedisMessageHandler | undefined;

  /**
   * Creates a subscriber; it connects on its first subscription or on
   * `connect()`.
   *
   * @param url A Redis URL or one parsed by `parseRedisUrl`; the database
   * does not matter to pub/sub.
   * @param options Connection options and the message handler.
   * @throws {TypeError} If the URL does not parse.
   * @throws {RangeError} If an option is out of range.
   */
  constructor(
    url: string | RedisUrl = "redis://127.0.0.1:6379",
    options: RedisSubscriberOptions = {},
  ) {
    this.url = typeof url === "string" ? parseRedisUrl(url) : url;
    this.#onMessage = options.onMessage;
    this.#link = new Link(this.url, resolveRedisOptions(options), {
      pubsub: true,
      onMessage: (message) => this.#deliver(message),
      prepare: async (send) => {
        await this.#resubscribe(send, "SUBSCRIBE", this.#channels);
        await this.#resubscribe(send, "PSUBSCRIBE", this.#patterns);
      },
    });
  }

  /** The channels subscribed to, or to be on the next connection. */
  get channels(): ReadonlySet<string> {
    return this.#channels;
  }

  /** The patterns subscribed to, or to be on the next connection. */
  get patterns(): ReadonlySet<string> {
    return this.#patterns;
  }

  /** Whether a connection is ready. */
  get connected(): boolean {
    return this.#link.ready;
  }

  /**
   * Connects now rather than on the first subscription.
   *
   * @returns When connected and subscribed.
   * @throws {RedisConnectionError} If the attempt fails.
   */
  connect(): Promise<void> {
    return this.#link.connect();
  }

  /**
   * Subscribes to channels.
   *
   * @param channels Channel names.
   * @returns When Redis has confirmed them all.
   * @throws {RedisError} If Redis refuses; the channels are forgotten.
   * @throws {RedisConnectionError} If the connection is lost or cannot be
   * made in time; the channels stay wanted.
   */
  subscribe(...channels: string[]): Promise<void> {
    return this.#change("SUBSCRIBE", this.#channels, channels, true);
  }

  /**
   * Subscribes to glob-style patterns such as `news.*`.
   *
   * @param patterns Patterns.
   * @returns When Redis has confirmed them all.
   * @throws {RedisError} If Redis refuses; the patterns are forgotten.
   * @throws {RedisConnectionError} If the connection is lost or cannot be
   * made in time; the patterns stay wanted.
   */
  psubscribe(...patterns: string[]): Promise<void> {
    return this.#change("PSUBSCRIBE", this.#patterns, patterns, true);
  }

  /**
   * Unsubscribes from channels; from every channel if none is named. No
   * message of them is handed over from now on.
   *
   * @param channels Channel names.
   * @returns When Redis has confirmed.
   * @throws {RedisConnectionError} If the connection is lost or cannot be
   * made in time; the channels are not subscribed again anyway.
   */
  unsubscribe(...channels: string[]): Promise<void> {
    return this.#change(
      "UNSUBSCRIBE",
      this.#channels,
      channels.length > 0 ? channels : [...this.#channels],
      false,
    );
  }

  /**
   * Unsubscribes from patterns; from every pattern if none is named.
   *
   * @param patterns Patterns.
   * @returns When Redis has confirmed.
   * @throws {RedisConnectionError} If the connection is lost or cannot be
   * made in time; the patterns are not subscribed again anyway.
   */
  punsubscribe(...patterns: string[]): Promise<void> {
    return this.#change(
      "PUNSUBSCRIBE",
      this.#patterns,
      patterns.length > 0 ? patterns : [...this.#patterns],
      false,
    );
  }

  async #change(
    command: string,
    wanted: Set<string>,
    names: string[],
    add: boolean,
  ): Promise<void> {
    const unique = [...new Set(names)];
    if (unique.length === 0) return;
    if (unique.some((name) => typeof name !== "string")) {
      throw new TypeError(`Cannot ${command}: a name is not a string`);
    }
    for (const name of unique) {
      if (add) wanted.add(name);
      else wanted.delete(name);
    }
    try {
      await this.#link.send(
        [command, ...unique],
        false,
        this.#link.options.commandTimeout,
        unique.length,
      );
    } catch (error) {
      if (add && error instanceof RedisError) {
        for (const name of unique) wanted.delete(name);
      }
      throw error;
    }
  }

  /**
   * Subscribes a new connection to everything wanted. If Redis refuses
   * (an ACL changed, or a name waits for its first confirmation), each name
   * is tried alone and those refused are forgotten and reported.
   */
  async #resubscribe(
    send: (args: readonly string[], expect: number) => Promise<RedisReply>,
    command: string,
    wanted: Set<string>,
  ): Promise<void> {
    if (wanted.size === 0) return;
    try {
      await send([command, ...wanted], wanted.size);
      return;
    } catch (error) {
      if (!(error instanceof RedisError)) throw error;
    }
    for (const name of [...wanted]) {
      try {
        await send([command, name], 1);
      } catch (error) {
        if (!(error instanceof RedisError)) throw error;
        wanted.delete(name);
        this.#report(error);
      }
    }
  }

  #report(error: unknown): void {
    const { logger, onError } = this.#link.options;
    logger.error("redis refused a subscription", {
      error: error instanceof Error ? error.message : String(error),
    });
    try {
      onError?.(error instanceof Error ? error : new Error(String(error)));
    } catch {
      // Logged already.
    }
  }

  #deliver(message: RedisReply[]): void {
    const handler = this.#onMessage;
    if (handler === undefined) return;
    let pattern: string | undefined;
    let channel: RedisReply | undefined;
    let payload: RedisReply | undefined;
    if (message.length === 4) {
      const bytes = message[1];
      if (!(bytes instanceof Uint8Array)) return;
      pattern = UTF8_DECODER.decode(bytes);
      // Dropped if unsubscribed meanwhile.
      if (!this.#patterns.has(pattern)) return;
      channel = message[2];
      payload = message[3];
    } else {
      channel = message[1];
      payload = message[2];
    }
    if (!(channel instanceof Uint8Array) || !(payload instanceof Uint8Array)) {
      return;
    }
    const name = UTF8_DECODER.decode(channel);
    if (pattern === undefined && !this.#channels.has(name)) return;
    try {
      handler(name, payload, pattern);
    } catch (error) {
      const { logger, onError } = this.#link.options;
      logger.error("a redis message handler threw", {
        channel: name,
        error: error instanceof Error ? error.message : String(error),
      });
      try {
        onError?.(error instanceof Error ? error : new Error(String(error)));
      } catch {
        // Logged already.
      }
    }
  }

  /**
   * Unsubscribes by closing the connection; pending calls reject.
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
