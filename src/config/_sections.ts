/**
 * Reads each section of a parsed configuration file into a
 * {@linkcode BrokerConfig}, with the checks of {@linkcode Checker}.
 *
 * @module
 */

import {
  ACL_REASON_CODES,
  type AclPermission,
  type AclReason,
  type AclRule,
} from "../hooks/acl.ts";
import { parsePasswordHash } from "../hooks/auth.ts";
import { type Checker, parseDuration, show } from "./_check.ts";
import type { Path } from "./_error.ts";
import { readApi } from "./_api.ts";
import { parseRedisUrl } from "../redis/url.ts";
import type {
  BrokerConfig,
  ClusterConfig,
  ListenerConfig,
  MqttConfig,
  PersistenceConfig,
} from "./types.ts";
import { isValidTopicFilter } from "../../packets/topic.ts";
import type { QoS } from "../../packets/types.ts";

/** The SQLite file when `persistence.path` is not set. */
const DEFAULT_DB = "gmqtt.db";
const LEVELS = ["debug", "info", "warn", "error", "off"] as const;
const FORMATS = ["text", "json"] as const;
const MAX_SAFE = Number.MAX_SAFE_INTEGER;
/** Longest `sys_interval`, in seconds: a day. */
const MAX_SYS_INTERVAL = 86400;

type MqttField =
  | { key: keyof MqttConfig; kind: "int"; min: number; max: number }
  | { key: keyof MqttConfig; kind: "seconds" | "ms"; min: number; max: number }
  | { key: keyof MqttConfig; kind: "bool" }
  | { key: keyof MqttConfig; kind: "oneOf"; values: readonly string[] };

const MQTT_FIELDS: Readonly<Record<string, MqttField>> = {
  max_packet_size: {
    key: "maxPacketSize",
    kind: "int",
    min: 2,
    max: 268435460,
  },
  max_keepalive: { key: "maxKeepAlive", kind: "seconds", min: 0, max: 65535 },
  max_inflight: { key: "maxInflight", kind: "int", min: 1, max: 65535 },
  max_queued_messages: {
    key: "maxQueuedMessages",
    kind: "int",
    min: 0,
    max: MAX_SAFE,
  },
  queue_qos0_messages: { key: "queueQoS0Messages", kind: "bool" },
  queue_full: {
    key: "queueFull",
    kind: "oneOf",
    values: ["backpressure", "drop"],
  },
  retain_available: { key: "retainAvailable", kind: "bool" },
  allow_zero_length_clientid: { key: "allowEmptyClientId", kind: "bool" },
  session_expiry: {
    key: "sessionExpiry",
    kind: "seconds",
    min: 0,
    max: 0xffffffff,
  },
  topic_alias_maximum: {
    key: "topicAliasMaximum",
    kind: "int",
    min: 0,
    max: 65535,
  },
  topic_alias_maximum_out: {
    key: "topicAliasMaximumOut",
    kind: "int",
    min: 0,
    max: 65535,
  },
  maximum_qos: { key: "maxQoS", kind: "int", min: 0, max: 2 },
  max_output_buffer: {
    key: "maxOutputBuffer",
    kind: "int",
    min: 0,
    max: MAX_SAFE,
  },
  connect_timeout: {
    key: "connectTimeout",
    kind: "seconds",
    min: 1,
    max: 86400,
  },
  sweep_interval: { key: "sweepInterval", kind: "ms", min: 1, max: 3600_000 },
  message_expiry: {
    key: "messageExpiry",
    kind: "seconds",
    min: 0,
    max: 0xffffffff,
  },
  server_receive_maximum: {
    key: "receiveMaximum",
    kind: "int",
    min: 1,
    max: 65535,
  },
  subscription_identifier_available: {
    key: "subscriptionIdentifiersAvailable",
    kind: "bool",
  },
  wildcard_subscription_available: {
    key: "wildcardSubscriptionAvailable",
    kind: "bool",
  },
  shared_subscription_available: {
    key: "sharedSubscriptionAvailable",
    kind: "bool",
  },
  shared_subscription_offline: {
    key: "sharedSubscriptionOffline",
    kind: "oneOf",
    values: ["online_first", "round_robin"],
  },
  max_connections: {
    key: "maxConnections",
    kind: "int",
    min: 1,
    max: MAX_SAFE,
  },
  max_sessions: {
    key: "maxSessions",
    kind: "int",
    min: 1,
    max: MAX_SAFE,
  },
  max_subscriptions_per_client: {
    key: "maxSubscriptionsPerClient",
    kind: "int",
    min: 1,
    max: MAX_SAFE,
  },
  max_filters_per_subscribe: {
    key: "maxFiltersPerSubscribe",
    kind: "int",
    min: 1,
    max: 65535,
  },
  max_topic_levels: {
    key: "maxTopicLevels",
    kind: "int",
    min: 1,
    max: 65535,
  },
  max_retained_messages: {
    key: "maxRetainedMessages",
    kind: "int",
    min: 0,
    max: MAX_SAFE,
  },
  max_retained_bytes: {
    key: "maxRetainedBytes",
    kind: "int",
    min: 0,
    max: MAX_SAFE,
  },
  max_queued_bytes: {
    key: "maxQueuedBytes",
    kind: "int",
    min: 0,
    max: MAX_SAFE,
  },
  max_queued_memory: {
    key: "maxQueuedMemory",
    kind: "int",
    min: 0,
    max: MAX_SAFE,
  },
  session_owner_change: {
    key: "sessionOwnerChange",
    kind: "oneOf",
    values: ["refuse", "clean"],
  },
};

/** Keys of the Go gmqtt `mqtt` section that this broker does not have yet. */
const MQTT_UNSUPPORTED = new Set([
  "session_expiry_check_timer",
  "inflight_expiry",
  "delivery_mode",
]);

/**
 * Reads a parsed document into `config`, which holds the defaults.
 *
 * @param c The checker of the document's text.
 * @param root The parsed document.
 * @param config The defaults, changed in place.
 * @returns `config`.
 */
export function readConfig(
  c: Checker,
  root: unknown,
  config: BrokerConfig,
): BrokerConfig {
  // The default file sits next to the configuration file, as a path in it.
  config.persistence.path = c.path(DEFAULT_DB, ["persistence", "path"]);
  if (root === null) return config;
  const top = c.mapping(root, [], [
    "listeners",
    "mqtt",
    "log",
    "auth",
    "acl",
    "api",
    "persistence",
    "cluster",
    "sys_interval",
  ]);
  if (top.listeners !== undefined) {
    const list = c.list(top.listeners, ["listeners"]);
    if (list.length === 0) {
      c.fail(["listeners"], "expected at least one listener");
    }
    config.listeners = list.map((l, i) => listener(c, l, ["listeners", i]));
  }
  if (top.mqtt !== undefined) config.mqtt = mqtt(c, top.mqtt);
  if (top.log !== undefined) {
    const log = c.mapping(top.log, ["log"], ["level", "format"]);
    if (log.level !== undefined) {
      config.log.level = c.oneOf(log.level, ["log", "level"], LEVELS);
    }
    if (log.format !== undefined) {
      config.log.format = c.oneOf(log.format, ["log", "format"], FORMATS);
    }
  }
  if (top.auth !== undefined) config.auth = auth(c, top.auth);
  if (top.acl !== undefined) config.acl = acl(c, top.acl);
  checkUsersNamed(c, config);
  if (top.api !== undefined) {
    const read = readApi(c, top.api);
    if (read !== undefined) config.api = read;
  }
  if (top.persistence !== undefined) {
    config.persistence = persistence(c, top.persistence, config.persistence);
  }
  if (top.cluster !== undefined) {
    config.cluster = cluster(c, top.cluster);
    if (top.persistence === undefined) config.persistence.type = "redis";
  }
  if (config.persistence.type === "redis" && config.cluster === undefined) {
    c.fail(
      ["persistence", "type"],
      'redis keeps state in a cluster\'s Redis: add a "cluster" section with its URL',
    );
  }
  if (config.cluster !== undefined && config.persistence.type !== "redis") {
    c.fail(
      ["persistence", "type"],
      "a cluster keeps sessions and retained messages in its Redis: set redis, or remove the persistence section",
    );
  }
  if (top.sys_interval !== undefined) {
    const seconds = parseDuration(top.sys_interval);
    if (seconds === undefined || seconds > MAX_SYS_INTERVAL) {
      c.fail(
        ["sys_interval"],
        `expected a duration from 0 to ${MAX_SYS_INTERVAL} seconds (seconds as a number, fractions allowed, or a string such as "10s", "500ms"), got ${
          show(top.sys_interval)
        }`,
      );
    }
    config.sysInterval = seconds;
  }
  return config;
}

function listener(c: Checker, value: unknown, at: Path): ListenerConfig {
  const l = c.mapping(value, at, ["address", "name", "tls", "websocket"]);
  if (l.address === undefined) {
    c.fail(at, 'expected an "address" such as ":1883"');
  }
  const listener: ListenerConfig = {
    ...c.address(l.address, [...at, "address"]),
  };
  const line = c.line(at);
  if (line !== undefined) listener.line = line;
  if (l.name !== undefined) {
    listener.name = c.string(l.name, [...at, "name"]);
  }
  if (l.tls !== undefined) {
    const tlsAt = [...at, "tls"];
    const tls = c.mapping(l.tls, tlsAt, ["cert", "key", "ca", "verify"]);
    if (tls.ca !== undefined || tls.verify === true) {
      c.fail(
        [...tlsAt, tls.ca !== undefined ? "ca" : "verify"],
        "client certificate verification is not supported (Deno's TLS listener cannot ask for client certificates); remove it",
      );
    }
    if (tls.verify !== undefined && tls.verify !== false) {
      c.fail([...tlsAt, "verify"], `expected false, got ${show(tls.verify)}`);
    }
    listener.tls = c.pemFiles(tls, tlsAt);
  }
  if (l.websocket !== undefined) {
    const wsAt = [...at, "websocket"];
    const ws = l.websocket === null || l.websocket === true
      ? {}
      : c.mapping(l.websocket, wsAt, ["path"]);
    const path = ws.path === undefined
      ? undefined
      : c.string(ws.path, [...wsAt, "path"]);
    if (path !== undefined && !path.startsWith("/")) {
      c.fail(
        [...wsAt, "path"],
        `expected a path starting with "/", got ${show(path)}`,
      );
    }
    listener.websocket = path === undefined ? {} : { path };
  }
  return listener;
}

/**
 * The `persistence` section; an empty one (`persistence:`) keeps state in
 * memory. `path` and `sync` belong to `type: sqlite` only: given with
 * `memory`, they would suggest a file that is never written.
 */
function persistence(
  c: Checker,
  value: unknown,
  defaults: PersistenceConfig,
): PersistenceConfig {
  const at = ["persistence"];
  const p = value === null
    ? {}
    : c.mapping(value, at, ["type", "path", "sync"]);
  const type = p.type === undefined ? "memory" : c.oneOf(
    p.type,
    [...at, "type"],
    ["memory", "sqlite", "redis"] as const,
  );
  if (type !== "sqlite") {
    for (const key of ["path", "sync"]) {
      if (p[key] !== undefined) {
        c.fail(
          [...at, key],
          'used only with "type: sqlite"; set that, or remove this key',
        );
      }
    }
  }
  const out: PersistenceConfig = {
    type,
    path: p.path === undefined
      ? defaults.path
      : c.path(p.path, [...at, "path"]),
    sync: p.sync === undefined
      ? defaults.sync
      : c.oneOf(p.sync, [...at, "sync"], ["normal", "full"] as const),
  };
  const line = c.line(p.path === undefined ? at : [...at, "path"]);
  if (line !== undefined) out.line = line;
  return out;
}

/** The `cluster` section: the Redis URL (checked) and the node id. */
function cluster(c: Checker, value: unknown): ClusterConfig {
  const at = ["cluster"];
  const section = c.mapping(value, at, ["redis", "node_id"]);
  if (section.redis === undefined) {
    c.fail([...at, "redis"], "expected the Redis URL every node shares");
  }
  const redis = c.string(section.redis, [...at, "redis"]);
  try {
    parseRedisUrl(redis);
  } catch (error) {
    c.fail([...at, "redis"], (error as Error).message);
  }
  const out: ClusterConfig = { redis };
  if (section.node_id !== undefined) {
    const nodeId = c.string(section.node_id, [...at, "node_id"]);
    if (nodeId === "" || /[\s{}]/.test(nodeId)) {
      c.fail(
        [...at, "node_id"],
        `expected a node id without spaces or braces, got ${show(nodeId)}`,
      );
    }
    out.nodeId = nodeId;
  }
  const line = c.line(at);
  if (line !== undefined) out.line = line;
  return out;
}

function mqtt(c: Checker, value: unknown): MqttConfig {
  if (value !== null && typeof value === "object") {
    for (const key of Object.keys(value)) {
      if (MQTT_UNSUPPORTED.has(key)) {
        c.fail(
          ["mqtt", key],
          "this Go gmqtt setting is not supported yet; remove it",
        );
      }
    }
  }
  const mqtt = c.mapping(value, ["mqtt"], Object.keys(MQTT_FIELDS));
  const out: Record<string, unknown> = {};
  for (const [name, raw] of Object.entries(mqtt)) {
    const at = ["mqtt", name];
    const field = MQTT_FIELDS[name];
    if (field === undefined) continue;
    if (field.kind === "bool") {
      out[field.key] = c.bool(raw, at);
      continue;
    }
    if (field.kind === "oneOf") {
      out[field.key] = c.oneOf(raw, at, field.values);
      continue;
    }
    const { min, max } = field;
    if (field.kind === "int") {
      if (
        !Number.isInteger(raw) || (raw as number) < min ||
        (raw as number) > max
      ) {
        c.fail(
          at,
          `expected an integer from ${min} to ${max}, got ${show(raw)}`,
        );
      }
      out[field.key] = raw;
      continue;
    }
    const seconds = parseDuration(raw);
    const value = seconds === undefined
      ? undefined
      : field.kind === "ms"
      ? Math.round(seconds * 1000)
      : seconds;
    if (
      value === undefined || !Number.isInteger(value) || value < min ||
      value > max
    ) {
      const unit = field.kind === "ms" ? "milliseconds" : "whole seconds";
      c.fail(
        at,
        `expected a duration in ${unit} from ${min} to ${max} (seconds as a number, or a string such as "30s", "1m30s", "2h"), got ${
          show(raw)
        }`,
      );
    }
    out[field.key] = value;
  }
  if (out.maxQoS !== undefined) out.maxQoS = out.maxQoS as QoS;
  return out as MqttConfig;
}

function auth(c: Checker, value: unknown): BrokerConfig["auth"] {
  const auth = c.mapping(value, ["auth"], [
    "password_file",
    "users",
    "allow_anonymous",
    "client_id_binding",
  ]);
  const users = new Map<string, string>();
  if (auth.users !== undefined) {
    const list = c.list(auth.users, ["auth", "users"]);
    for (const [i, entry] of list.entries()) {
      const at = ["auth", "users", i];
      const user = c.mapping(entry, at, ["username", "password"]);
      const username = c.string(user.username, [...at, "username"]);
      if (username === "" || /[:\r\n]/.test(username)) {
        c.fail(
          [...at, "username"],
          `expected a non-empty name without ":", got ${show(username)}`,
        );
      }
      if (users.has(username)) {
        c.fail([...at, "username"], `user ${show(username)} is listed twice`);
      }
      if (
        typeof user.password !== "string" ||
        parsePasswordHash(user.password) === undefined
      ) {
        c.fail(
          [...at, "password"],
          "expected a $pbkdf2-sha256$ hash (make one with the passwd command); plain-text passwords are refused",
        );
      }
      users.set(username, user.password);
    }
  }
  return {
    users,
    ...(auth.password_file !== undefined
      ? {
        passwordFile: c.path(auth.password_file, ["auth", "password_file"]),
      }
      : {}),
    ...(auth.allow_anonymous !== undefined
      ? {
        allowAnonymous: c.bool(auth.allow_anonymous, [
          "auth",
          "allow_anonymous",
        ]),
      }
      : {}),
    ...(auth.client_id_binding !== undefined
      ? {
        clientIdBinding: c.oneOf(
          auth.client_id_binding,
          ["auth", "client_id_binding"],
          ["none", "exact", "prefix"] as const,
        ),
      }
      : {}),
  };
}

/**
 * Refuses what names users when there are none to log in as: anyone could
 * claim such a user name with any password.
 */
function checkUsersNamed(c: Checker, config: BrokerConfig): void {
  const { users, passwordFile, clientIdBinding } = config.auth;
  if (users.size > 0 || passwordFile !== undefined) return;
  for (const [i, rule] of config.acl.rules.entries()) {
    if (rule.username !== undefined) {
      c.fail(
        ["acl", "rules", i, "username"],
        `a rule for user ${
          show(rule.username)
        } needs users to log in as (auth.password_file or auth.users): without them any client may claim any user name`,
      );
    }
  }
  if (clientIdBinding !== undefined && clientIdBinding !== "none") {
    c.fail(
      ["auth", "client_id_binding"],
      "binding client ids to user names needs users (auth.password_file or auth.users)",
    );
  }
}

function acl(c: Checker, value: unknown): BrokerConfig["acl"] {
  const acl = c.mapping(value, ["acl"], ["rules", "default", "overlap"]);
  const permissions = ["allow", "deny"] as const;
  const rules: AclRule[] = [];
  if (acl.rules !== undefined) {
    for (const [i, entry] of c.list(acl.rules, ["acl", "rules"]).entries()) {
      const at = ["acl", "rules", i];
      const r = c.mapping(entry, at, [
        "permission",
        "action",
        "topic",
        "username",
        "clientid",
        "reason",
      ]);
      for (const key of ["permission", "action", "topic"]) {
        if (r[key] === undefined) c.fail(at, `expected "${key}"`);
      }
      const topic = c.string(r.topic, [...at, "topic"]);
      if (!isValidTopicFilter(topic)) {
        c.fail(
          [...at, "topic"],
          `expected a valid topic filter, got ${show(topic)}`,
        );
      }
      rules.push({
        permission: c.oneOf(r.permission, [...at, "permission"], permissions),
        action: c.oneOf(
          r.action,
          [...at, "action"],
          ["publish", "subscribe", "all"] as const,
        ),
        topic,
        ...(r.username !== undefined
          ? { username: c.string(r.username, [...at, "username"]) }
          : {}),
        ...(r.clientid !== undefined
          ? { clientId: c.string(r.clientid, [...at, "clientid"]) }
          : {}),
        ...(r.reason !== undefined
          ? { reason: aclReason(c, r.reason, [...at, "reason"]) }
          : {}),
      });
    }
  }
  const fallback: AclPermission = acl.default === undefined
    ? "allow"
    : c.oneOf(acl.default, ["acl", "default"], permissions);
  return {
    rules,
    default: fallback,
    ...(acl.overlap !== undefined
      ? {
        overlap: c.oneOf(
          acl.overlap,
          ["acl", "overlap"],
          [
            "filter",
            "refuse",
          ] as const,
        ),
      }
      : {}),
  };
}

/** A rule's `reason`: a name of `ACL_REASON_CODES`, or one of its codes. */
function aclReason(
  c: Checker,
  value: unknown,
  at: Path,
): AclReason {
  const code = typeof value === "number"
    ? Object.values(ACL_REASON_CODES).find((c) => c === value)
    : undefined;
  if (code !== undefined) return code;
  if (typeof value === "string" && Object.hasOwn(ACL_REASON_CODES, value)) {
    return value as AclReason;
  }
  return c.fail(
    at,
    `expected one of ${
      Object.entries(ACL_REASON_CODES).map(([name, code]) =>
        `${name} (0x${code.toString(16)})`
      ).join(", ")
    }, got ${show(value)}`,
  );
}
