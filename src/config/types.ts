/**
 * The shapes of a loaded configuration: what `config.ts` produces and the
 * section readers fill in. Types only, so that the readers and the loader
 * import them without importing each other.
 *
 * @module
 */

import type { AclOverlap, AclPermission, AclRule } from "../hooks/acl.ts";
import type { BasicCredentials } from "../api/handler.ts";
import type { ClientIdBinding } from "../hooks/auth.ts";
import type { LevelName, LogFormat } from "../observe/logger.ts";
import type { ServerOptions } from "../server/options.ts";
import type { SqliteSync } from "../store/sqlite.ts";

/** One listener of {@linkcode BrokerConfig.listeners}. */
export interface ListenerConfig {
  /** Name in logs; "{transport}:{port}" when not set. */
  name?: string;
  /** Address to bind; "0.0.0.0" for an address like ":1883". */
  hostname: string;
  /** Port to bind; 0 for any free one. */
  port: number;
  /** TLS (or wss with `websocket`): paths of the PEM certificate and key. */
  tls?: { certFile: string; keyFile: string };
  /** Serve MQTT over WebSocket: on this HTTP path only, or on any path. */
  websocket?: { path?: string };
  /** Line of the listener in the configuration file, for messages. */
  line?: number;
}

/** The HTTP API of {@linkcode BrokerConfig.api}. */
export interface ApiConfig {
  /** Address to bind: "127.0.0.1" by default, "0.0.0.0" for ":8083". */
  hostname: string;
  /** Port to bind; 8083 by default, 0 for any free one. */
  port: number;
  /** Bearer token a request must carry; none by default. */
  token?: string;
  /**
   * Environment variable that holds the token; {@linkcode loadConfig} reads
   * it into `token`.
   */
  tokenEnv?: string;
  /** HTTP basic credentials a request may carry instead; none by default. */
  basic?: BasicCredentials;
  /** HTTPS: paths of the PEM certificate chain and key; plain HTTP without. */
  tls?: { certFile: string; keyFile: string };
  /**
   * Whether the API may listen on an address other than loopback without
   * `token` or `basic`; false by default.
   */
  allowUnauthenticated?: boolean;
  /** Milliseconds a client has to send a whole request; 10,000 by default. */
  headerTimeout?: number;
  /** Milliseconds a kept-alive connection may wait for its next request; 5000 by default. */
  idleTimeout?: number;
  /** HTTP connections served at once; 1024 by default. */
  maxConnections?: number;
  /** Whether `/` and `/ui/` serve the web dashboard; true by default. */
  dashboard?: boolean;
  /** Watch streams open at once; 8 by default. */
  maxWatchStreams?: number;
  /** Messages a watch stream sends per second at most; 50 by default. */
  watchRate?: number;
  /** Line of `api.address` (or of `api`) in the file, for messages. */
  line?: number;
}

/** Where the broker keeps what survives a restart, from `persistence`. */
export interface PersistenceConfig {
  /**
   * `memory` (the default): nothing survives a restart; `sqlite`: sessions,
   * queues, messages in flight and retained messages are written to `path`.
   */
  type: "memory" | "sqlite";
  /**
   * The SQLite file, resolved: relative paths start from the configuration
   * file's folder. `gmqtt.db` next to the configuration file by default, in
   * the working folder without one.
   */
  path: string;
  /** How hard a commit works to survive a crash; "normal" by default. */
  sync: SqliteSync;
  /** Line of `persistence.path` (or of `persistence`) in the file, for messages. */
  line?: number;
}

/** The MQTT limits of the `mqtt` section, as {@linkcode ServerOptions}. */
export type MqttConfig = Pick<
  ServerOptions,
  | "maxPacketSize"
  | "maxKeepAlive"
  | "maxInflight"
  | "maxQueuedMessages"
  | "queueQoS0Messages"
  | "queueFull"
  | "retainAvailable"
  | "allowEmptyClientId"
  | "sessionExpiry"
  | "topicAliasMaximum"
  | "topicAliasMaximumOut"
  | "maxQoS"
  | "maxOutputBuffer"
  | "connectTimeout"
  | "sweepInterval"
  | "messageExpiry"
  | "receiveMaximum"
  | "wildcardSubscriptionAvailable"
  | "subscriptionIdentifiersAvailable"
  | "sharedSubscriptionAvailable"
  | "sharedSubscriptionOffline"
  | "maxConnections"
  | "maxSessions"
  | "maxSubscriptionsPerClient"
  | "maxFiltersPerSubscribe"
  | "maxTopicLevels"
  | "maxRetainedMessages"
  | "maxRetainedBytes"
  | "maxQueuedBytes"
  | "maxQueuedMemory"
  | "sessionOwnerChange"
>;

/** A loaded and checked configuration. */
export interface BrokerConfig {
  /** The file it was read from, for messages; none for the defaults. */
  file?: string;
  /** Where the broker listens; one TCP listener on 0.0.0.0:1883 by default. */
  listeners: ListenerConfig[];
  /** MQTT limits; the server's defaults for those not set. */
  mqtt: MqttConfig;
  /** Log level ("info" by default) and format ("text" by default). */
  log: { level: LevelName | "off"; format: LogFormat };
  /**
   * Users (name to password hash, from the password file and inline),
   * whether anonymous clients may connect (by default, only when there are
   * no users and no password file), and the password file, resolved.
   */
  auth: {
    users: Map<string, string>;
    allowAnonymous?: boolean;
    passwordFile?: string;
    /** How client ids are bound to user names; "none" by default. */
    clientIdBinding?: ClientIdBinding;
  };
  /**
   * ACL rules (none by default), the answer when none matches ("allow"), and
   * what a deny rule does to a subscription that overlaps it ("filter" when
   * not set, see `AclOptions.overlap`).
   */
  acl: { rules: AclRule[]; default: AclPermission; overlap?: AclOverlap };
  /** The HTTP API; none by default (no `api` section, or `enabled: false`). */
  api?: ApiConfig;
  /** Where state is kept: in memory by default. */
  persistence: PersistenceConfig;
  /**
   * Seconds between two publications of the `$SYS` topics, fractions
   * allowed, 0 for none; the server's default (10) when not set.
   */
  sysInterval?: number;
}
