/**
 * gmqtt: an MQTT 3.1, 3.1.1 and 5.0 broker for Deno, to run or to embed.
 *
 * A {@linkcode Server} listens on TCP, TLS, WebSocket and secure WebSocket,
 * or serves any pair of byte streams with {@linkcode Server.handle}. Hooks
 * decide on connections, subscriptions and publishes with MQTT reason codes,
 * and observe what the broker does. The packet codec is exported on its own
 * as `@gmqtt/broker/packets`.
 *
 * @example Embed a broker that refuses one topic to subscribers
 * ```ts
 * import { ReasonCode, Server } from "@gmqtt/broker";
 *
 * const server = new Server({
 *   maxInflight: 20,
 *   hooks: {
 *     checkSubscribe(_client, subscription) {
 *       if (subscription.topicFilter === "test/nosubscribe") {
 *         return ReasonCode.NotAuthorized;
 *       }
 *     },
 *   },
 * });
 * server.listen({ hostname: "127.0.0.1", port: 0 });
 * await server.start();
 * await server.publish({ topic: "greeting", payload: "hello", retain: true });
 * await server.stop();
 * ```
 *
 * @module
 */

export {
  type ListenerAddress,
  type ListenOptions,
  type PublishOptions,
  Server,
} from "./src/server/server.ts";
export type {
  QueueFullPolicy,
  ServerOptions,
  SessionOwnerChange,
  SharedSubscriptionOffline,
} from "./src/server/options.ts";
export type {
  ClientSummary,
  SessionSummary,
  SubscriptionSummary,
} from "./src/server/summaries.ts";
export type {
  Awaitable,
  ClientInfo,
  ConnectionInfo,
  ConnectVerdict,
  DeliverVerdict,
  DropReason,
  Hooks,
  MessageVerdict,
  SessionTerminatedReason,
  SubscribeGrant,
  SubscribeVerdict,
  TransportKind,
  Verdict,
} from "./src/hooks/hooks.ts";
export type { Message } from "./src/message.ts";
export { MemoryStore } from "./src/store/memory.ts";
export {
  SQLITE_SCHEMA_VERSION,
  SqliteStore,
  SqliteStoreError,
  type SqliteStoreOptions,
  type SqliteSync,
} from "./src/store/sqlite.ts";
export {
  REDIS_SCHEMA_VERSION,
  RedisStore,
  RedisStoreError,
  type RedisStoreOpenOptions,
  type RedisStoreOptions,
} from "./src/store/redis.ts";
export {
  type RedisArgument,
  RedisClient,
  type RedisClientOptions,
  type RedisConnectEvent,
  RedisConnectionError,
  RedisError,
  type RedisLogger,
  type RedisMessageHandler,
  RedisProtocolError,
  type RedisReply,
  type RedisSendOptions,
  RedisSubscriber,
  type RedisSubscriberOptions,
  RedisTimeoutError,
  type RedisUrl,
} from "./src/redis/mod.ts";
export { LocalBus } from "./src/core/bus.ts";
export {
  ClusterError,
  RedisBus,
  type RedisBusOptions,
} from "./src/cluster/redis_bus.ts";
export type {
  Bus,
  BusNode,
  ClusterNode,
  ClusterStatus,
  Delivery,
  SessionRecord,
  SharedGroupFilter,
  Store,
  StoredInflight,
  StoredSession,
  StoredState,
  StoredWill,
  SubscriptionRecord,
} from "./src/core/ports.ts";
export type { MetricsSnapshot, PacketCounts } from "./src/core/metrics.ts";
export type { Duplex } from "./src/transport/stream.ts";
export {
  type ApiAddress,
  apiHandler,
  type ApiOptions,
  ApiServer,
  type BasicCredentials,
  serveApi,
  type ServeApiOptions,
} from "./src/api/mod.ts";
export {
  type ProcessMemory,
  PROMETHEUS_CONTENT_TYPE,
  type PrometheusOptions,
  renderPrometheus,
  type ServerMetrics,
} from "./src/observe/prometheus.ts";
export {
  SysTopics,
  type SysTopicsOptions,
  type SysTopicsSource,
  VERSION,
} from "./src/observe/sys.ts";
export {
  formatRecord,
  type LevelName,
  type LogFormat,
  Logger,
  type LoggerOptions,
  type LogHandler,
  type LogRecord,
  silentLogger,
  StreamHandler,
  type StreamHandlerOptions,
} from "./src/observe/logger.ts";
export {
  type ConnackRefusalCode,
  ConnackReturnCode,
  type ConnectPacket,
  MqttError,
  type PacketType,
  type Properties,
  type ProtocolVersion,
  type PublishPacket,
  type QoS,
  ReasonCode,
  type RefusalCode,
  type Subscription,
  type UserProperty,
  type Will,
} from "./packets/mod.ts";
export {
  type ClientIdBinding,
  DEFAULT_PBKDF2_ITERATIONS,
  hashPassword,
  type HashPasswordOptions,
  parsePasswordFile,
  parsePasswordHash,
  passwordAuth,
  type PasswordAuthOptions,
  type PasswordHash,
  setPasswordFileUser,
  verifyPassword,
} from "./src/hooks/auth.ts";
export {
  ACL_REASON_CODES,
  type AclAction,
  aclHooks,
  type AclOptions,
  type AclOverlap,
  type AclPermission,
  type AclReason,
  type AclReasonName,
  type AclRule,
} from "./src/hooks/acl.ts";
export {
  type ApiConfig,
  type BrokerConfig,
  type ClusterConfig,
  ConfigError,
  defaultConfig,
  type ListenerConfig,
  loadConfig,
  type MqttConfig,
  parseConfig,
  type PersistenceConfig,
  toListenOptions,
  toServerOptions,
} from "./src/config/config.ts";
