/**
 * The broker's YAML configuration file: loading, validation, and conversion
 * to {@linkcode ServerOptions} and {@linkcode ListenOptions}.
 *
 * Keys follow the Go gmqtt `config.yml` where they make sense. Every error
 * is a {@linkcode ConfigError} that names the file, the line when known, the
 * key path (such as `listeners[1].tls.cert`) and what was expected.
 *
 * @module
 */

import { aclHooks, type AclPermission, type AclRule } from "./acl.ts";
import { parsePasswordFile, parsePasswordHash, passwordAuth } from "./auth.ts";
import type { Hooks } from "./hooks.ts";
import type { LevelName, LogFormat } from "./logger.ts";
import type { ListenOptions, ServerOptions } from "./server.ts";
import { parse as parseYaml, YamlError } from "./yaml.ts";
import { isValidTopicFilter } from "../packets/topic.ts";
import type { QoS } from "../packets/types.ts";

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
  /** Serve MQTT over WebSocket on this HTTP path. */
  websocket?: { path: string };
  /** Line of the listener in the configuration file, for messages. */
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
  | "retainAvailable"
  | "allowEmptyClientId"
  | "sessionExpiry"
  | "topicAliasMaximum"
  | "maxQoS"
  | "maxOutputBuffer"
  | "connectTimeout"
  | "sweepInterval"
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
  };
  /** ACL rules (none by default) and the answer when none matches ("allow"). */
  acl: { rules: AclRule[]; default: AclPermission };
}

type Path = readonly (string | number)[];

/**
 * A configuration problem a user can fix: the message is one line naming
 * the file, the line when known, the key path and what was expected.
 *
 * @example Report a bad value
 * ```ts
 * import { ConfigError, parseConfig } from "@gmqtt/broker";
 * import { ok, strictEqual } from "node:assert/strict";
 *
 * try {
 *   parseConfig("mqtt:\n  max_inflight: lots\n", "broker.yml");
 * } catch (error) {
 *   ok(error instanceof ConfigError);
 *   strictEqual(error.line, 2);
 *   strictEqual(error.keyPath, "mqtt.max_inflight");
 *   strictEqual(
 *     error.message,
 *     'Cannot load config: broker.yml:2: mqtt.max_inflight: expected an integer from 1 to 65535, got "lots"',
 *   );
 * }
 * ```
 */
export class ConfigError extends Error {
  /** The configuration file, as given. */
  readonly file: string;
  /** Line of the problem, from 1, when known. */
  readonly line: number | undefined;
  /** The key path, such as `listeners[1].tls.cert`; "" for the whole file. */
  readonly keyPath: string;
  /** What is wrong and what was expected, in lower case. */
  readonly detail: string;

  /**
   * Makes the error.
   *
   * @example Make an error without a line
   * ```ts
   * import { ConfigError } from "@gmqtt/broker";
   * import { strictEqual } from "node:assert/strict";
   *
   * const error = new ConfigError("x.yml", undefined, "log.level", "expected info");
   * strictEqual(error.message, "Cannot load config: x.yml: log.level: expected info");
   * ```
   * @param file The configuration file.
   * @param line Line of the problem, from 1, if known.
   * @param keyPath The key path, "" for the whole file.
   * @param detail What is wrong and what was expected.
   */
  constructor(
    file: string,
    line: number | undefined,
    keyPath: string,
    detail: string,
  ) {
    const where = line === undefined ? file : `${file}:${line}`;
    super(
      `Cannot load config: ${where}: ${
        keyPath === "" ? "" : `${keyPath}: `
      }${detail}`,
    );
    this.name = "ConfigError";
    this.file = file;
    this.line = line;
    this.keyPath = keyPath;
    this.detail = detail;
  }
}

/**
 * The configuration used without a file: one TCP listener on 0.0.0.0:1883,
 * anonymous access, info logs as text.
 *
 * @example Start from the defaults
 * ```ts
 * import { defaultConfig } from "@gmqtt/broker";
 * import { strictEqual } from "node:assert/strict";
 *
 * strictEqual(defaultConfig().listeners[0]?.port, 1883);
 * ```
 * @returns A new default configuration.
 */
export function defaultConfig(): BrokerConfig {
  return {
    listeners: [{ hostname: "0.0.0.0", port: 1883 }],
    mqtt: {},
    log: { level: "info", format: "text" },
    auth: { users: new Map() },
    acl: { rules: [], default: "allow" },
  };
}

/**
 * Reads and checks a configuration file: its YAML, every key and value, the
 * password file it names (read now) and the TLS files (checked readable).
 * Relative paths in it are relative to the file's folder.
 *
 * @example Load a configuration file
 * ```ts
 * import { loadConfig } from "@gmqtt/broker";
 * import { strictEqual } from "node:assert/strict";
 *
 * const file = await Deno.makeTempFile({ suffix: ".yml" });
 * await Deno.writeTextFile(file, 'listeners:\n  - address: "127.0.0.1:0"\n');
 * const config = await loadConfig(file);
 * strictEqual(config.listeners[0]?.hostname, "127.0.0.1");
 * await Deno.remove(file);
 * ```
 * @param path The file.
 * @returns The configuration.
 * @throws {ConfigError} If the file cannot be read or is not valid.
 */
export async function loadConfig(path: string): Promise<BrokerConfig> {
  let text: string;
  try {
    text = await Deno.readTextFile(path);
  } catch (error) {
    throw new ConfigError(path, undefined, "", `cannot read: ${why(error)}`);
  }
  const config = parseConfig(text, path);
  const fail = (at: Path, detail: string): ConfigError =>
    new ConfigError(path, locate(text, at), formatPath(at), detail);
  for (const [i, listener] of config.listeners.entries()) {
    if (listener.tls === undefined) continue;
    for (const key of ["cert", "key"] as const) {
      const file = key === "cert"
        ? listener.tls.certFile
        : listener.tls.keyFile;
      const problem = await pemProblem(file);
      if (problem !== undefined) {
        throw fail(["listeners", i, "tls", key], problem);
      }
    }
  }
  const passwordFile = config.auth.passwordFile;
  if (passwordFile !== undefined) {
    const at = ["auth", "password_file"];
    let users: Map<string, string>;
    try {
      users = parsePasswordFile(await Deno.readTextFile(passwordFile));
    } catch (error) {
      const detail = error instanceof SyntaxError
        ? error.message.replace(/^Cannot read password file: /, "")
        : why(error);
      throw fail(at, `cannot read ${JSON.stringify(passwordFile)}: ${detail}`);
    }
    for (const [username, hash] of users) {
      if (config.auth.users.has(username)) {
        throw fail(
          at,
          `user ${
            JSON.stringify(username)
          } is both in the file and in auth.users`,
        );
      }
      config.auth.users.set(username, hash);
    }
  }
  return config;
}

/**
 * Checks the text of a configuration file, without reading the files it
 * names (see {@linkcode loadConfig} for that).
 *
 * @example Read a configuration
 * ```ts
 * import { parseConfig } from "@gmqtt/broker";
 * import { deepStrictEqual, strictEqual } from "node:assert/strict";
 *
 * const config = parseConfig(`
 * listeners:
 *   - address: ":1883"
 *   - address: "127.0.0.1:8080"
 *     websocket:
 *       path: /mqtt
 * mqtt:
 *   session_expiry: 2h
 *   max_keepalive: 1m30s
 * `);
 * strictEqual(config.listeners.length, 2);
 * deepStrictEqual(config.listeners[1]?.websocket, { path: "/mqtt" });
 * deepStrictEqual(config.mqtt, { sessionExpiry: 7200, maxKeepAlive: 90 });
 * ```
 * @param text The YAML text.
 * @param file The file's name for messages and the folder relative paths
 * start from; "config.yml" in the working folder by default.
 * @returns The configuration; `auth.users` holds only the inline users.
 * @throws {ConfigError} If the text is not valid.
 */
export function parseConfig(text: string, file = "config.yml"): BrokerConfig {
  let root: unknown;
  try {
    root = parseYaml(text);
  } catch (error) {
    if (error instanceof YamlError) {
      const detail = error.message.replace(/^Cannot parse YAML at [^:]*: /, "");
      throw new ConfigError(
        file,
        error.line,
        "",
        `invalid YAML at column ${error.column}: ${detail}`,
      );
    }
    throw error;
  }
  return new Checker(text, file).config(root);
}

/**
 * The options for {@linkcode Server} that a configuration asks for: its MQTT
 * limits, and hooks for its users and ACL rules (none when it has neither).
 * The logger is left to the caller.
 *
 * @example Make a server from a configuration
 * ```ts
 * import { parseConfig, Server, toListenOptions, toServerOptions } from "@gmqtt/broker";
 *
 * const config = parseConfig('listeners:\n  - address: "127.0.0.1:0"\n');
 * const server = new Server(toServerOptions(config));
 * for (const listen of toListenOptions(config)) server.listen(listen);
 * await server.start();
 * await server.stop();
 * ```
 * @param config The configuration.
 * @returns Options for `new Server()`.
 */
export function toServerOptions(config: BrokerConfig): ServerOptions {
  const hooks: Hooks[] = [];
  const { users, allowAnonymous, passwordFile } = config.auth;
  // A password file counts as configured users, even an empty one.
  const hasUsers = users.size > 0 || passwordFile !== undefined;
  if (hasUsers || allowAnonymous === false) {
    hooks.push(
      passwordAuth({ users, allowAnonymous: allowAnonymous ?? !hasUsers }),
    );
  }
  if (config.acl.rules.length > 0 || config.acl.default === "deny") {
    hooks.push(aclHooks(config.acl));
  }
  return { ...config.mqtt, ...(hooks.length > 0 ? { hooks } : {}) };
}

/**
 * The listeners of a configuration, as options for {@linkcode Server.listen}.
 *
 * @example List the listeners
 * ```ts
 * import { parseConfig, toListenOptions } from "@gmqtt/broker";
 * import { deepStrictEqual } from "node:assert/strict";
 *
 * const config = parseConfig('listeners:\n  - address: ":8080"\n    websocket: {path: /ws}\n');
 * deepStrictEqual(toListenOptions(config), [
 *   { hostname: "0.0.0.0", port: 8080, websocket: { path: "/ws" } },
 * ]);
 * ```
 * @param config The configuration.
 * @returns One entry per listener, in order.
 */
export function toListenOptions(config: BrokerConfig): ListenOptions[] {
  return config.listeners.map((l) => ({
    ...(l.name !== undefined ? { name: l.name } : {}),
    hostname: l.hostname,
    port: l.port,
    ...(l.tls !== undefined
      ? { certFile: l.tls.certFile, keyFile: l.tls.keyFile }
      : {}),
    ...(l.websocket !== undefined ? { websocket: l.websocket } : {}),
  }));
}

/** Reads a listener address such as ":1883", "127.0.0.1:1883" or "[::1]:1883". */
function parseAddress(
  address: string,
): { hostname: string; port: number } | undefined {
  const match = /^(?:\[([0-9A-Fa-f:.]+)\]|([^:\s[\]]*)):([0-9]{1,5})$/.exec(
    address,
  );
  if (match === null) return undefined;
  const port = Number(match[3]);
  if (port > 65535) return undefined;
  const hostname = match[1] ?? (match[2] || "0.0.0.0");
  return { hostname, port };
}

/**
 * Reads a duration in seconds: a number, or a string of numbers with units
 * `d`, `h`, `m`, `s` and `ms` ("2h", "1m30s", "250ms"); `undefined` if it
 * is not a non-negative duration.
 */
function parseDuration(value: unknown): number | undefined {
  if (typeof value === "number") {
    return Number.isFinite(value) && value >= 0 ? value : undefined;
  }
  if (typeof value !== "string" || !DURATION_RE.test(value)) return undefined;
  let seconds = 0;
  for (const [, amount, unit] of value.matchAll(DURATION_PART_RE)) {
    seconds += Number(amount) * (UNIT_SECONDS[unit ?? "s"] ?? 1);
  }
  return seconds;
}

const DURATION_RE = /^(?:[0-9]+(?:\.[0-9]+)?(?:ms|d|h|m|s))+$/;
const DURATION_PART_RE = /([0-9]+(?:\.[0-9]+)?)(ms|d|h|m|s)/g;
const UNIT_SECONDS: Readonly<Record<string, number>> = {
  d: 86400,
  h: 3600,
  m: 60,
  s: 1,
  ms: 0.001,
};
const LEVELS = ["debug", "info", "warn", "error", "off"] as const;
const FORMATS = ["text", "json"] as const;
const MAX_SAFE = Number.MAX_SAFE_INTEGER;

type MqttField =
  | { key: keyof MqttConfig; kind: "int"; min: number; max: number }
  | { key: keyof MqttConfig; kind: "seconds" | "ms"; min: number; max: number }
  | { key: keyof MqttConfig; kind: "bool" };

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
};

/** Keys of the Go gmqtt `mqtt` section that this broker does not have yet. */
const MQTT_UNSUPPORTED = new Set([
  "session_expiry_check_timer",
  "message_expiry",
  "inflight_expiry",
  "server_receive_maximum",
  "subscription_identifier_available",
  "wildcard_subscription_available",
  "shared_subscription_available",
  "delivery_mode",
]);

/** Checks a parsed document, failing with the first problem found. */
class Checker {
  readonly #text: string;
  readonly #file: string;
  readonly #dir: string;

  constructor(text: string, file: string) {
    this.#text = text;
    this.#file = file;
    const slash = Math.max(file.lastIndexOf("/"), file.lastIndexOf("\\"));
    this.#dir = slash === -1 ? "" : file.slice(0, slash + 1);
  }

  config(root: unknown): BrokerConfig {
    const config: BrokerConfig = { ...defaultConfig(), file: this.#file };
    if (root === null) return config;
    const top = this.#mapping(root, [], [
      "listeners",
      "mqtt",
      "log",
      "auth",
      "acl",
    ]);
    if (top.listeners !== undefined) {
      const list = this.#list(top.listeners, ["listeners"]);
      if (list.length === 0) {
        this.#fail(["listeners"], "expected at least one listener");
      }
      config.listeners = list.map((l, i) =>
        this.#listener(l, ["listeners", i])
      );
    }
    if (top.mqtt !== undefined) config.mqtt = this.#mqtt(top.mqtt);
    if (top.log !== undefined) {
      const log = this.#mapping(top.log, ["log"], ["level", "format"]);
      if (log.level !== undefined) {
        config.log.level = this.#oneOf(log.level, ["log", "level"], LEVELS);
      }
      if (log.format !== undefined) {
        config.log.format = this.#oneOf(log.format, ["log", "format"], FORMATS);
      }
    }
    if (top.auth !== undefined) config.auth = this.#auth(top.auth);
    if (top.acl !== undefined) config.acl = this.#acl(top.acl);
    return config;
  }

  #listener(value: unknown, at: Path): ListenerConfig {
    const l = this.#mapping(value, at, ["address", "name", "tls", "websocket"]);
    if (l.address === undefined) {
      this.#fail(at, 'expected an "address" such as ":1883"');
    }
    const address = typeof l.address === "string"
      ? parseAddress(l.address)
      : undefined;
    if (address === undefined) {
      this.#fail(
        [...at, "address"],
        `expected "host:port" or ":port" with a port from 0 to 65535, got ${
          show(l.address)
        }`,
      );
    }
    const listener: ListenerConfig = { ...address };
    const line = locate(this.#text, at);
    if (line !== undefined) listener.line = line;
    if (l.name !== undefined) {
      listener.name = this.#string(l.name, [...at, "name"]);
    }
    if (l.tls !== undefined) {
      const tlsAt = [...at, "tls"];
      const tls = this.#mapping(l.tls, tlsAt, ["cert", "key", "ca", "verify"]);
      if (tls.ca !== undefined || tls.verify === true) {
        this.#fail(
          [...tlsAt, tls.ca !== undefined ? "ca" : "verify"],
          "client certificate verification is not supported (Deno's TLS listener cannot ask for client certificates); remove it",
        );
      }
      if (tls.verify !== undefined && tls.verify !== false) {
        this.#fail(
          [...tlsAt, "verify"],
          `expected false, got ${show(tls.verify)}`,
        );
      }
      for (const key of ["cert", "key"] as const) {
        if (tls[key] === undefined) {
          this.#fail(tlsAt, `expected "${key}", the path of a PEM file`);
        }
      }
      listener.tls = {
        certFile: this.#path(tls.cert, [...tlsAt, "cert"]),
        keyFile: this.#path(tls.key, [...tlsAt, "key"]),
      };
    }
    if (l.websocket !== undefined) {
      const wsAt = [...at, "websocket"];
      const ws = l.websocket === null || l.websocket === true
        ? {}
        : this.#mapping(l.websocket, wsAt, ["path"]);
      const path = ws.path === undefined
        ? "/mqtt"
        : this.#string(ws.path, [...wsAt, "path"]);
      if (!path.startsWith("/")) {
        this.#fail(
          [...wsAt, "path"],
          `expected a path starting with "/", got ${show(path)}`,
        );
      }
      listener.websocket = { path };
    }
    return listener;
  }

  #mqtt(value: unknown): MqttConfig {
    if (value !== null && typeof value === "object") {
      for (const key of Object.keys(value)) {
        if (MQTT_UNSUPPORTED.has(key)) {
          this.#fail(
            ["mqtt", key],
            "this Go gmqtt setting is not supported yet; remove it",
          );
        }
      }
    }
    const mqtt = this.#mapping(value, ["mqtt"], Object.keys(MQTT_FIELDS));
    const out: Record<string, unknown> = {};
    for (const [name, raw] of Object.entries(mqtt)) {
      const at = ["mqtt", name];
      const field = MQTT_FIELDS[name];
      if (field === undefined) continue;
      if (field.kind === "bool") {
        out[field.key] = this.#bool(raw, at);
        continue;
      }
      const { min, max } = field;
      if (field.kind === "int") {
        if (
          !Number.isInteger(raw) || (raw as number) < min ||
          (raw as number) > max
        ) {
          this.#fail(
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
        this.#fail(
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

  #auth(value: unknown): BrokerConfig["auth"] {
    const auth = this.#mapping(value, ["auth"], [
      "password_file",
      "users",
      "allow_anonymous",
    ]);
    const users = new Map<string, string>();
    if (auth.users !== undefined) {
      const list = this.#list(auth.users, ["auth", "users"]);
      for (const [i, entry] of list.entries()) {
        const at = ["auth", "users", i];
        const user = this.#mapping(entry, at, ["username", "password"]);
        const username = this.#string(user.username, [...at, "username"]);
        if (username === "" || /[:\r\n]/.test(username)) {
          this.#fail(
            [...at, "username"],
            `expected a non-empty name without ":", got ${show(username)}`,
          );
        }
        if (users.has(username)) {
          this.#fail(
            [...at, "username"],
            `user ${show(username)} is listed twice`,
          );
        }
        if (
          typeof user.password !== "string" ||
          parsePasswordHash(user.password) === undefined
        ) {
          this.#fail(
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
          passwordFile: this.#path(auth.password_file, [
            "auth",
            "password_file",
          ]),
        }
        : {}),
      ...(auth.allow_anonymous !== undefined
        ? {
          allowAnonymous: this.#bool(auth.allow_anonymous, [
            "auth",
            "allow_anonymous",
          ]),
        }
        : {}),
    };
  }

  #acl(value: unknown): BrokerConfig["acl"] {
    const acl = this.#mapping(value, ["acl"], ["rules", "default"]);
    const rules: AclRule[] = [];
    if (acl.rules !== undefined) {
      for (
        const [i, entry] of this.#list(acl.rules, ["acl", "rules"]).entries()
      ) {
        const at = ["acl", "rules", i];
        const r = this.#mapping(entry, at, [
          "permission",
          "action",
          "topic",
          "username",
          "clientid",
        ]);
        for (const key of ["permission", "action", "topic"]) {
          if (r[key] === undefined) this.#fail(at, `expected "${key}"`);
        }
        const topic = this.#string(r.topic, [...at, "topic"]);
        if (!isValidTopicFilter(topic)) {
          this.#fail(
            [...at, "topic"],
            `expected a valid topic filter, got ${show(topic)}`,
          );
        }
        rules.push({
          permission: this.#oneOf(
            r.permission,
            [...at, "permission"],
            ["allow", "deny"] as const,
          ),
          action: this.#oneOf(
            r.action,
            [...at, "action"],
            ["publish", "subscribe", "all"] as const,
          ),
          topic,
          ...(r.username !== undefined
            ? { username: this.#string(r.username, [...at, "username"]) }
            : {}),
          ...(r.clientid !== undefined
            ? { clientId: this.#string(r.clientid, [...at, "clientid"]) }
            : {}),
        });
      }
    }
    return {
      rules,
      default: acl.default === undefined ? "allow" : this.#oneOf(
        acl.default,
        ["acl", "default"],
        ["allow", "deny"] as const,
      ),
    };
  }

  #mapping(
    value: unknown,
    at: Path,
    keys: readonly string[],
  ): Record<string, unknown> {
    if (value === null || typeof value !== "object" || Array.isArray(value)) {
      this.#fail(at, `expected a mapping, got ${show(value)}`);
    }
    const map = value as Record<string, unknown>;
    for (const key of Object.keys(map)) {
      if (!keys.includes(key)) {
        this.#fail(
          [...at, key],
          `unknown key; expected one of ${keys.join(", ")}`,
        );
      }
    }
    return map;
  }

  #list(value: unknown, at: Path): unknown[] {
    if (!Array.isArray(value)) {
      this.#fail(at, `expected a list, got ${show(value)}`);
    }
    return value;
  }

  #string(value: unknown, at: Path): string {
    if (typeof value !== "string") {
      this.#fail(at, `expected a string, got ${show(value)}`);
    }
    return value;
  }

  #bool(value: unknown, at: Path): boolean {
    if (typeof value !== "boolean") {
      this.#fail(at, `expected true or false, got ${show(value)}`);
    }
    return value;
  }

  #oneOf<T extends string>(value: unknown, at: Path, choices: readonly T[]): T {
    if (
      typeof value !== "string" ||
      !(choices as readonly string[]).includes(value)
    ) {
      this.#fail(
        at,
        `expected one of ${choices.join(", ")}, got ${show(value)}`,
      );
    }
    return value as T;
  }

  /** A file path, made relative to the configuration file's folder. */
  #path(value: unknown, at: Path): string {
    const path = this.#string(value, at);
    if (path === "") {
      this.#fail(at, "expected a file path, got an empty string");
    }
    return isAbsolute(path) ? path : this.#dir + path;
  }

  #fail(at: Path, detail: string): never {
    throw new ConfigError(
      this.#file,
      locate(this.#text, at),
      formatPath(at),
      detail,
    );
  }
}

/**
 * Why a PEM file cannot be used, or `undefined` if it can be read and holds
 * a PEM block. Internal: for `cmd/broker.ts`, not exported from `mod.ts`.
 *
 * @param path The file.
 * @returns What is wrong, in lower case, or `undefined`.
 */
export async function pemProblem(path: string): Promise<string | undefined> {
  let text: string;
  try {
    text = await Deno.readTextFile(path);
  } catch (error) {
    return `cannot read ${JSON.stringify(path)}: ${why(error)}`;
  }
  if (!text.includes("-----BEGIN ")) {
    return `expected a PEM file, but ${
      JSON.stringify(path)
    } has no "-----BEGIN" line`;
  }
  return undefined;
}

function isAbsolute(path: string): boolean {
  return path.startsWith("/") || path.startsWith("\\") ||
    /^[A-Za-z]:[\\/]/.test(path);
}

/** An error's message without Deno's operation suffix. */
function why(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  return message.replace(/: (?:readfile|open|stat) '.*'$/, "");
}

function show(value: unknown): string {
  if (value === null || value === undefined) return "nothing";
  if (Array.isArray(value)) return "a list";
  if (typeof value === "object") return "a mapping";
  return JSON.stringify(value);
}

function formatPath(at: Path): string {
  let out = "";
  for (const part of at) {
    out += typeof part === "number"
      ? `[${part}]`
      : out === ""
      ? part
      : `.${part}`;
  }
  return out;
}

/**
 * The line (from 1) of the node at a key path in block-style YAML, or of the
 * deepest key found on the way; `undefined` if not even the first is found.
 * A best effort for messages: flow collections are not searched.
 */
function locate(text: string, at: Path): number | undefined {
  const lines = text.split("\n").map((l) => l.replace(/\r$/, ""));
  const isContent = (i: number): boolean => {
    const t = (lines[i] ?? "").trimStart();
    return t !== "" && !t.startsWith("#");
  };
  const indentOf = (i: number): number => {
    const l = lines[i] ?? "";
    return l.length - l.trimStart().length;
  };
  const isDash = (i: number, indent: number): boolean =>
    /^-(?:\s|$)/.test((lines[i] ?? "").slice(indent));
  /** The first content line from `from` that ends a node at `indent`. */
  const endOf = (from: number, to: number, indent: number, dashes: boolean) => {
    for (let i = from; i < to; i++) {
      if (!isContent(i)) continue;
      const n = indentOf(i);
      if (n < indent || (n === indent && !(dashes && isDash(i, n)))) return i;
    }
    return to;
  };
  let start = 0;
  let end = lines.length;
  let found: number | undefined;
  for (const part of at) {
    let first = start;
    while (first < end && !isContent(first)) first++;
    if (first >= end) return found;
    const indent = indentOf(first);
    let hit = -1;
    let seen = -1;
    for (let i = first; i < end && hit === -1; i++) {
      if (!isContent(i) || indentOf(i) !== indent) continue;
      const line = (lines[i] ?? "").slice(indent);
      if (typeof part === "number") {
        if (isDash(i, indent) && ++seen === part) hit = i;
      } else {
        const key = /^(?:"([^"]*)"|'([^']*)'|([^\s"'#][^:#]*?))\s*:(?:\s|$)/
          .exec(line);
        if (key !== null && (key[1] ?? key[2] ?? key[3]) === part) hit = i;
      }
    }
    if (hit === -1) return found;
    found = hit + 1;
    if (typeof part === "number") {
      // Blank the dash, so a compact "- key: value" reads as a mapping.
      lines[hit] = " ".repeat(indent + 1) +
        (lines[hit] ?? "").slice(indent + 1);
      start = isContent(hit) ? hit : hit + 1;
      end = endOf(hit + 1, end, indent, false);
    } else {
      start = hit + 1;
      end = endOf(hit + 1, end, indent, true);
    }
  }
  return found;
}
