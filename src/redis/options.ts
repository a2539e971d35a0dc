/**
 * Options shared by {@linkcode RedisClient} and {@linkcode RedisSubscriber},
 * with their defaults.
 *
 * @module
 */

/**
 * Where a client reports connection losses and errors: the four methods
 * of the broker's `Logger`, which fits as it is.
 */
export interface RedisLogger {
  /** Detail for tracing (each connection made). */
  debug(msg: string, fields?: Record<string, unknown>): void;
  /** A normal event (reconnected). */
  info(msg: string, fields?: Record<string, unknown>): void;
  /** A problem it recovers from (connection lost, attempt failed). */
  warn(msg: string, fields?: Record<string, unknown>): void;
  /** A fault (malformed reply, a callback that threw). */
  error(msg: string, fields?: Record<string, unknown>): void;
}

const SILENT: RedisLogger = {
  debug() {},
  info() {},
  warn() {},
  error() {},
};

/** What a client reports when a connection is ready. */
export interface RedisConnectEvent {
  /** The protocol spoken on this connection: 3 if Redis knows `HELLO`. */
  readonly protocol: 2 | 3;
  /**
   * False for the first connection, true for every one after a loss: what
   * was published meanwhile was missed and may need catching up on.
   */
  readonly reconnected: boolean;
}

/** Options for {@linkcode RedisClient} and {@linkcode RedisSubscriber}. */
export interface RedisClientOptions {
  /**
   * PEM certificates to trust for `rediss://`, besides the system's roots;
   * none by default.
   */
  caCerts?: string[];
  /**
   * Milliseconds to connect, including TLS and the opening commands
   * (`HELLO`, `AUTH`, `SELECT`); 5000 by default.
   */
  connectTimeout?: number;
  /**
   * Milliseconds a sent command waits for its reply before it rejects with
   * a `RedisTimeoutError` and the connection is reset; 5000 by default, 0
   * for no limit. `send` can override it per command.
   */
  commandTimeout?: number;
  /**
   * The RESP version: 3 sends `HELLO 3` and falls back to 2 if Redis does
   * not know it; 2 never sends `HELLO`. 3 by default.
   */
  protocol?: 2 | 3;
  /**
   * Every this many milliseconds, a connection with no command in flight
   * sends `PING` (answered within `commandTimeout`), so that a connection
   * that died without a word (a host gone, a network cut) is found and
   * replaced even when idle, as a subscriber's often is; 30 000 by
   * default, 0 never.
   */
  pingInterval?: number;
  /** A connection name for `CLIENT LIST` (`CLIENT SETNAME`); none by default. */
  name?: string;
  /**
   * Milliseconds before the first reconnection attempt; each failed attempt
   * doubles it up to `reconnectMaxDelay`, and each wait is between half and
   * all of it at random. 50 by default.
   */
  reconnectMinDelay?: number;
  /** The longest wait between reconnection attempts; 2000 ms by default. */
  reconnectMaxDelay?: number;
  /**
   * Commands that may wait for a connection; one more rejects at once with
   * a `RedisConnectionError`. 10 000 by default.
   */
  maxOfflineCommands?: number;
  /**
   * Milliseconds a command waits for a connection before it rejects with a
   * `RedisConnectionError` naming the last connection error; 10 000 by
   * default.
   */
  offlineTimeout?: number;
  /**
   * Where connection losses and errors are reported, such as the broker's
   * `Logger`; silent by default.
   */
  logger?: RedisLogger;
  /** Called each time a connection is ready (after resubscribing, for a subscriber). */
  onConnect?: (event: RedisConnectEvent) => void;
  /** Called when a ready connection is lost, with the reason. */
  onDisconnect?: (error: Error) => void;
  /**
   * Called for each failed connection attempt, malformed reply or error
   * thrown by a callback.
   */
  onError?: (error: Error) => void;
}

/** {@linkcode RedisClientOptions} with every default filled in. */
export interface ResolvedRedisOptions {
  readonly caCerts: string[] | undefined;
  readonly connectTimeout: number;
  readonly commandTimeout: number;
  readonly protocol: 2 | 3;
  readonly pingInterval: number;
  readonly name: string | undefined;
  readonly reconnectMinDelay: number;
  readonly reconnectMaxDelay: number;
  readonly maxOfflineCommands: number;
  readonly offlineTimeout: number;
  readonly logger: RedisLogger;
  readonly onConnect: ((event: RedisConnectEvent) => void) | undefined;
  readonly onDisconnect: ((error: Error) => void) | undefined;
  readonly onError: ((error: Error) => void) | undefined;
}

function milliseconds(
  value: number | undefined,
  fallback: number,
  field: string,
): number {
  if (value === undefined) return fallback;
  if (!Number.isFinite(value) || value < 0) {
    throw new RangeError(
      `Cannot use Redis option ${field}: ${value} is not a number of milliseconds`,
    );
  }
  return value;
}

/**
 * Fills in the defaults.
 *
 * @param options What the caller gave.
 * @returns Every option.
 * @throws {RangeError} If a time or count is negative or not finite.
 */
export function resolveRedisOptions(
  options: RedisClientOptions,
): ResolvedRedisOptions {
  if (
    options.protocol !== undefined && options.protocol !== 2 &&
    options.protocol !== 3
  ) {
    throw new RangeError(
      `Cannot use Redis option protocol: ${options.protocol} is neither 2 nor 3`,
    );
  }
  const min = milliseconds(options.reconnectMinDelay, 50, "reconnectMinDelay");
  return {
    caCerts: options.caCerts,
    connectTimeout: milliseconds(
      options.connectTimeout,
      5000,
      "connectTimeout",
    ),
    commandTimeout: milliseconds(
      options.commandTimeout,
      5000,
      "commandTimeout",
    ),
    protocol: options.protocol ?? 3,
    pingInterval: milliseconds(options.pingInterval, 30_000, "pingInterval"),
    name: options.name,
    reconnectMinDelay: min,
    reconnectMaxDelay: Math.max(
      min,
      milliseconds(options.reconnectMaxDelay, 2000, "reconnectMaxDelay"),
    ),
    maxOfflineCommands: milliseconds(
      options.maxOfflineCommands,
      10_000,
      "maxOfflineCommands",
    ),
    offlineTimeout: milliseconds(
      options.offlineTimeout,
      10_000,
      "offlineTimeout",
    ),
    logger: options.logger ?? SILENT,
    onConnect: options.onConnect,
    onDisconnect: options.onDisconnect,
    onError: options.onError,
  };
}
