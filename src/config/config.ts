/**
 * The broker's YAML configuration file: loading, validation, and conversion
 * to {@linkcode ServerOptions} and {@linkcode ListenOptions}. The sections
 * are read in `_config_sections.ts`, with the value checks of
 * `_config_check.ts`.
 *
 * Keys follow the Go gmqtt `config.yml` where they make sense. Every error
 * is a {@linkcode ConfigError} that names the file, the line when known, the
 * key path (such as `listeners[1].tls.cert`) and what was expected.
 *
 * @module
 */

import { aclHooks } from "../hooks/acl.ts";
import { parsePasswordFile, passwordAuth } from "../hooks/auth.ts";
import { Checker } from "./_check.ts";
import { ConfigError } from "./_error.ts";
import { readConfig } from "./_sections.ts";
import type { BrokerConfig } from "./types.ts";
import type { Hooks } from "../hooks/hooks.ts";
import type { ServerOptions } from "../server/options.ts";
import type { ListenOptions } from "../server/server.ts";
import { parse as parseYaml, YamlError } from "./yaml.ts";

export type {
  ApiConfig,
  BrokerConfig,
  ClusterConfig,
  ListenerConfig,
  MqttConfig,
  PersistenceConfig,
} from "./types.ts";

export { ConfigError };

/**
 * The configuration used without a file: one TCP listener on 0.0.0.0:1883,
 * anonymous access, state in memory, info logs as text.
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
    persistence: { type: "memory", path: "gmqtt.db", sync: "normal" },
  };
}

/**
 * Reads and checks a configuration file: its YAML, every key and value, the
 * password file it names (read now), the TLS files (checked readable) and
 * the environment variable of `api.token_env` (read into `api.token`).
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
  const c: Checker = new Checker(text, path);
  for (const [i, listener] of config.listeners.entries()) {
    if (listener.tls === undefined) continue;
    for (const key of ["cert", "key"] as const) {
      const file = key === "cert"
        ? listener.tls.certFile
        : listener.tls.keyFile;
      const problem = await pemProblem(file);
      if (problem !== undefined) {
        c.fail(["listeners", i, "tls", key], problem);
      }
    }
  }
  const api = config.api;
  if (api?.tls !== undefined) {
    for (const key of ["cert", "key"] as const) {
      const problem = await pemProblem(
        key === "cert" ? api.tls.certFile : api.tls.keyFile,
      );
      if (problem !== undefined) c.fail(["api", "tls", key], problem);
    }
  }
  if (api?.tokenEnv !== undefined) {
    let token: string | undefined;
    try {
      token = Deno.env.get(api.tokenEnv);
    } catch (error) {
      c.fail(
        ["api", "token_env"],
        `cannot read ${JSON.stringify(api.tokenEnv)}: ${why(error)}`,
      );
    }
    if (token === undefined || token === "") {
      c.fail(
        ["api", "token_env"],
        `the environment variable ${
          JSON.stringify(api.tokenEnv)
        } is not set or empty`,
      );
    }
    api.token = token;
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
      c.fail(at, `cannot read ${JSON.stringify(passwordFile)}: ${detail}`);
    }
    for (const [username, hash] of users) {
      if (config.auth.users.has(username)) {
        c.fail(
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
  return readConfig(new Checker(text, file), root, {
    ...defaultConfig(),
    file,
  });
}

/**
 * The options for {@linkcode Server} that a configuration asks for: its MQTT
 * limits, its `$SYS` interval, and hooks for its users and ACL rules (none
 * when it has neither). The logger is left to the caller, and so is the
 * HTTP API of `config.api` (see `serveApi()`).
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
  const { users, allowAnonymous, passwordFile, clientIdBinding } = config.auth;
  // A password file counts as configured users, even an empty one.
  const hasUsers = users.size > 0 || passwordFile !== undefined;
  const binding = clientIdBinding ?? "none";
  if (hasUsers || allowAnonymous === false) {
    hooks.push(
      passwordAuth({
        users,
        allowAnonymous: allowAnonymous ?? !hasUsers,
        clientIdBinding: binding,
      }),
    );
  }
  if (config.acl.rules.length > 0 || config.acl.default === "deny") {
    hooks.push(aclHooks(config.acl));
  }
  return {
    ...config.mqtt,
    ...(hooks.length > 0 ? { hooks } : {}),
    ...(config.sysInterval !== undefined
      ? { sys: { interval: config.sysInterval } }
      : {}),
  };
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

/** An error's message without Deno's operation suffix. */
function why(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  return message.replace(/: (?:readfile|open|stat) '.*'$/, "");
}
