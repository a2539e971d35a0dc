/**
 * The life of a client's connection: connect on first use, hold commands
 * while disconnected (bounded in number and time), reconnect with capped,
 * jittered exponential backoff after a loss, report through the logger and
 * the callbacks, and stop everything on close.
 *
 * @module
 */

import { messageOf, type RespConnection } from "./_connection.ts";
import { openConnection } from "./_open.ts";
import { checkArguments, commandName } from "./_command.ts";
import { OfflineQueue } from "./_offline.ts";
import type { RedisConnectEvent, ResolvedRedisOptions } from "./options.ts";
import {
  type RedisArgument,
  RedisConnectionError,
  RedisError,
  RedisProtocolError,
  type RedisReply,
  RedisTimeoutError,
} from "./types.ts";
import type { RedisUrl } from "./url.ts";

/** What a subscriber adds to a link. */
export interface LinkRole {
  /** Whether the connection subscribes. */
  readonly pubsub: boolean;
  /** Receives pub/sub messages. */
  onMessage(message: RedisReply[]): void;
  /**
   * Runs on each new connection before it is ready (to subscribe again);
   * `send` sends on that connection.
   */
  prepare?(
    send: (
      args: readonly RedisArgument[],
      expect: number,
    ) => Promise<RedisReply>,
  ): Promise<void>;
}

type State = "idle" | "connecting" | "ready" | "waiting" | "closed";

/** A reconnecting connection to one Redis. */
export class Link {
  readonly url: RedisUrl;
  readonly options: ResolvedRedisOptions;
  readonly #role: LinkRole;
  #state: State = "idle";
  #connection: RespConnection | undefined;
  #protocol: 2 | 3 | undefined;
  #everConnected = false;
  /** Failed attempts in a row. */
  #failures = 0;
  #lastError: Error | undefined;
  #lastLogged: string | undefined;
  #retryTimer: ReturnType<typeof setTimeout> | undefined;
  #pingTimer: ReturnType<typeof setInterval> | undefined;
  #abort: AbortController | undefined;
  #attempt: Promise<void> | undefined;
  readonly #offline: OfflineQueue;
  #connectWaiters: { resolve(): void; reject(error: Error): void }[] = [];
  /** Connections whose read loop has not stopped yet. */
  readonly #live = new Set<RespConnection>();

  /**
   * @param url Where to connect.
   * @param options Every option.
   * @param role What a subscriber adds; a plain client has none.
   */
  constructor(url: RedisUrl, options: ResolvedRedisOptions, role: LinkRole) {
    this.url = url;
    this.options = options;
    this.#role = role;
    this.#offline = new OfflineQueue(options.offlineTimeout, () => {
      const last = this.#lastError;
      return new RedisConnectionError(
        `Cannot send a command: no connection to Redis at ${url.redacted} within ${options.offlineTimeout} ms${
          last === undefined ? "" : `: ${last.message}`
        }`,
        { cause: last },
      );
    });
  }

  /** Whether a connection is ready for commands. */
  get ready(): boolean {
    return this.#state === "ready";
  }

  /**
   * Bytes of commands not yet written to Redis: waiting for the socket, or
   * held while no connection is ready.
   */
  get unwritten(): number {
    return (this.#connection?.unwritten ?? 0) + this.#offline.bytes;
  }

  /** Whether `close()` was called. */
  get closed(): boolean {
    return this.#state === "closed";
  }

  /** The protocol of the ready connection, if any. */
  get protocol(): 2 | 3 | undefined {
    return this.#state === "ready" ? this.#protocol : undefined;
  }

  /** Connects if needed; rejects with the next failed attempt's error. */
  connect(): Promise<void> {
    if (this.#state === "ready") return Promise.resolve();
    if (this.#state === "closed") return Promise.reject(this.#closedError());
    return new Promise((resolve, reject) => {
      this.#connectWaiters.push({ resolve, reject });
      this.#start();
    });
  }

  /**
   * Sends a command now, or when a connection is ready.
   *
   * @param args The command.
   * @param errorsAsValues Whether an error reply resolves as a value.
   * @param timeout Milliseconds to wait once sent; 0 for ever.
   * @param expect Replies that answer it.
   * @returns The reply.
   */
  send(
    args: readonly RedisArgument[],
    errorsAsValues: boolean,
    timeout: number,
    expect: number,
  ): Promise<RedisReply> {
    const connection = this.#connection;
    if (this.#state === "ready" && connection !== undefined) {
      return new Promise((resolve, reject) => {
        connection.send(args, {
          resolve,
          reject,
          name: args[0],
          errorsAsValues,
          expect,
          timeout,
          sentAt: Date.now(),
        });
      });
    }
    if (this.#state === "closed") return Promise.reject(this.#closedError());
    if (this.#offline.length >= this.options.maxOfflineCommands) {
      return Promise.reject(
        new RedisConnectionError(
          `Cannot send ${
            commandName(args[0])
          }: not connected to Redis at ${this.url.redacted} and ${this.#offline.length} commands already wait`,
          { cause: this.#lastError },
        ),
      );
    }
    return new Promise((resolve, reject) => {
      this.#offline.add(args, {
        resolve,
        reject,
        name: args[0],
        errorsAsValues,
        expect,
        timeout,
        sentAt: Date.now(),
      });
      this.#start();
    });
  }

  /**
   * Checks a batch before any of it is sent, so that it is sent whole or
   * not at all.
   *
   * @throws {TypeError} If a command cannot be encoded.
   * @throws {RedisConnectionError} If no connection is ready and the batch
   * does not fit among the commands that may wait.
   */
  check(commands: readonly (readonly RedisArgument[])[]): void {
    for (const args of commands) checkArguments(args);
    const room = this.options.maxOfflineCommands - this.#offline.length;
    if (this.#state !== "ready" && commands.length > room) {
      throw new RedisConnectionError(
        `Cannot send a pipeline of ${commands.length}: not connected to Redis at ${this.url.redacted} and only ${
          Math.max(0, room)
        } more commands may wait`,
        { cause: this.#lastError },
      );
    }
  }

  /** Stops reconnecting, rejects what waits and closes the connection. */
  async close(): Promise<void> {
    if (this.#state !== "closed") {
      this.#state = "closed";
      const error = this.#closedError();
      clearTimeout(this.#retryTimer);
      clearInterval(this.#pingTimer);
      this.#abort?.abort(error);
      this.#offline.rejectAll(error);
      this.#rejectConnectWaiters(error);
      for (const connection of this.#live) connection.close(error);
    }
    await this.#attempt;
    await Promise.all([...this.#live].map((c) => c.done));
  }

  #closedError(): RedisConnectionError {
    return new RedisConnectionError(
      `Cannot use the Redis client for ${this.url.redacted}: it is closed`,
    );
  }

  /** Starts connecting unless an attempt is under way or scheduled. */
  #start(): void {
    if (this.#state !== "idle") return;
    this.#state = "connecting";
    const abort = new AbortController();
    this.#abort = abort;
    const timer = setTimeout(
      () =>
        abort.abort(
          new RedisTimeoutError(
            `no connection within ${this.options.connectTimeout} ms`,
          ),
        ),
      this.options.connectTimeout,
    );
    this.#attempt = this.#open(abort.signal)
      .then(
        (connection) => {
          clearTimeout(timer);
          this.#onOpen(connection);
        },
        (error) => {
          clearTimeout(timer);
          this.#onFailure(error);
        },
      )
      .catch((error) => this.#report(error)); // A callback's own throw.
  }

  async #open(signal: AbortSignal): Promise<RespConnection> {
    const opened = await openConnection(
      this.url,
      this.options,
      signal,
      {
        onMessage: (message) => this.#role.onMessage(message),
        onEnd: (connection, error) => this.#onLost(connection, error),
      },
      this.#role.pubsub,
    );
    const opening = opened.connection;
    this.#protocol = opened.protocol;
    this.#live.add(opening);
    opening.done.then(() => this.#live.delete(opening), () => {});
    const prepare = this.#role.prepare;
    if (prepare === undefined) return opening;
    const abort = () => opening.close(abortReason(signal));
    signal.addEventListener("abort", abort, { once: true });
    try {
      await prepare((args, expect) =>
        new Promise((resolve, reject) => {
          opening.send(args, {
            resolve,
            reject,
            name: args[0],
            errorsAsValues: false,
            expect,
            timeout: 0, // The connect timeout covers it.
            sentAt: Date.now(),
          });
        })
      );
    } catch (error) {
      opening.close(
        error instanceof RedisConnectionError
          ? error
          : new RedisConnectionError(messageOf(error), { cause: error }),
      );
      const reason = signal.aborted ? abortReason(signal) : error;
      throw new RedisConnectionError(
        `Cannot connect to Redis at ${this.url.redacted}: ${messageOf(reason)}`,
        { cause: reason },
      );
    } finally {
      signal.removeEventListener("abort", abort);
    }
    return opening;
  }

  #onOpen(connection: RespConnection): void {
    if (this.#state === "closed") {
      connection.close(this.#closedError());
      return;
    }
    if (connection.ended) {
      this.#onFailure(
        new RedisConnectionError(
          `Cannot connect to Redis at ${this.url.redacted}: the connection ended as it opened`,
        ),
      );
      return;
    }
    this.#connection = connection;
    this.#state = "ready";
    this.#failures = 0;
    if (this.options.pingInterval > 0) {
      this.#pingTimer = setInterval(
        () => this.#ping(connection),
        this.options.pingInterval,
      );
    }
    this.#lastLogged = undefined;
    const reconnected = this.#everConnected;
    this.#everConnected = true;
    this.#offline.sendOn(connection);
    const waiters = this.#connectWaiters;
    this.#connectWaiters = [];
    for (const waiter of waiters) waiter.resolve();
    const { logger } = this.options;
    if (reconnected) {
      logger.info("reconnected to redis", { url: this.url.redacted });
    } else {
      logger.debug("connected to redis", { url: this.url.redacted });
    }
    const event: RedisConnectEvent = {
      protocol: this.#protocol ?? 2,
      reconnected,
    };
    this.#call(() => this.options.onConnect?.(event));
  }

  #onFailure(error: unknown): void {
    if (this.#state === "closed") return;
    const failure = error instanceof Error ? error : new Error(String(error));
    this.#lastError = failure;
    this.#failures++;
    this.#rejectConnectWaiters(failure);
    if (failure.message !== this.#lastLogged) {
      this.#lastLogged = failure.message;
      this.options.logger.warn("cannot connect to redis", {
        url: this.url.redacted,
        error: failure.message,
      });
    }
    this.#call(() => this.options.onError?.(failure));
    if (failure.cause instanceof RedisError) {
      // Redis refused AUTH or SELECT: the commands that wait would wait in
      // vain until someone fixes the configuration.
      this.#offline.rejectAll(failure);
    }
    if (!this.#everConnected && this.#offline.length === 0) {
      // Nobody waits: try again when someone does.
      this.#state = "idle";
      return;
    }
    this.#retryLater();
  }

  #onLost(connection: RespConnection, error: Error): void {
    if (connection !== this.#connection || this.#state !== "ready") return;
    this.#connection = undefined;
    clearInterval(this.#pingTimer);
    this.#lastError = error;
    const { logger } = this.options;
    if (error instanceof RedisProtocolError) {
      logger.error("malformed reply from redis", {
        url: this.url.redacted,
        error: error.message,
      });
    } else {
      logger.warn("lost the connection to redis", {
        url: this.url.redacted,
        error: error.message,
      });
    }
    this.#lastLogged = error.message;
    this.#retryLater();
    this.#call(() => this.options.onDisconnect?.(error));
    if (error instanceof RedisProtocolError) {
      this.#call(() => this.options.onError?.(error));
    }
  }

  /**
   * Sends PING on an idle connection, so that a dead one (no FIN, no RST)
   * is found by the command timeout rather than by the next command.
   */
  #ping(connection: RespConnection): void {
    if (this.#connection !== connection || connection.inFlight > 0) return;
    const timeout = this.options.commandTimeout > 0
      ? this.options.commandTimeout
      : this.options.pingInterval;
    // A timeout resets the connection by itself; nothing else to do.
    this.send(["PING"], false, timeout, 1).catch(() => {});
  }

  #retryLater(): void {
    this.#state = "waiting";
    const { reconnectMinDelay: min, reconnectMaxDelay: max } = this.options;
    const base = Math.min(max, min * 2 ** Math.min(this.#failures, 30));
    const delay = base / 2 + Math.random() * base / 2;
    this.#retryTimer = setTimeout(() => {
      this.#retryTimer = undefined;
      if (this.#state !== "waiting") return;
      this.#state = "idle";
      this.#start();
    }, delay);
  }

  #rejectConnectWaiters(error: Error): void {
    const waiters = this.#connectWaiters;
    this.#connectWaiters = [];
    for (const waiter of waiters) waiter.reject(error);
  }

  /** Runs an owner's callback; a throw is logged, never passed on. */
  #call(callback: () => void): void {
    try {
      callback();
    } catch (error) {
      this.#report(error);
    }
  }

  /** Logs an error thrown by an owner's callback. */
  #report(error: unknown): void {
    this.options.logger.error("a redis callback threw", {
      url: this.url.redacted,
      error: messageOf(error),
    });
    if (this.options.onError !== undefined) {
      try {
        this.options.onError(
          error instanceof Error ? error : new Error(String(error)),
        );
      } catch {
        // Reported once already; a second throw goes nowhere.
      }
    }
  }
}

function abortReason(signal: AbortSignal): RedisConnectionError {
  const reason: unknown = signal.reason;
  return reason instanceof RedisConnectionError
    ? reason
    : new RedisConnectionError("the attempt was aborted", { cause: reason });
}
