/**
 * Runs a gmqtt broker from the command line.
 *
 * With no arguments it listens on 0.0.0.0:1883 (TCP) with anonymous access,
 * in-memory state and info logs on standard error; Ctrl-C or SIGTERM stops
 * it gracefully. `--persistence sqlite:FILE` (or the configuration's
 * `persistence` section) keeps sessions and retained messages in an SQLite
 * file across restarts. `--config FILE` reads a YAML configuration, and flags
 * override it; the HTTP API is served when the configuration has an `api`
 * section or `--api-port` is given. `passwd FILE USER` adds a user to a
 * password file. Run `--help` for the flags; the README documents every
 * configuration key.
 *
 * Exit codes: 0 after a graceful stop, 2 for a bad flag or configuration
 * (printed as one line on standard error), 1 for an unexpected failure.
 *
 * @example Print the version
 * ```ts
 * import { main } from "@gmqtt/broker/cmd";
 * import { strictEqual } from "node:assert/strict";
 *
 * strictEqual(await main(["--version"]), 0);
 * ```
 *
 * @module
 */

// deno-lint-ignore-file no-console

import { parseArgs } from "node:util";
import denoJson from "../deno.json" with { type: "json" };
import {
  type ApiServer,
  serveApi,
  type ServeApiOptions,
} from "../src/api/mod.ts";
import {
  type ApiConfig,
  type BrokerConfig,
  ConfigError,
  defaultConfig,
  type ListenerConfig,
  loadConfig,
  pemProblem,
  toListenOptions,
  toServerOptions,
} from "../src/config/config.ts";
import {
  type LevelName,
  type LogFormat,
  Logger,
  type LogRecord,
  StreamHandler,
} from "../src/observe/logger.ts";
import { resolveOptions } from "../src/server/options.ts";
import { Server } from "../src/server/server.ts";
import type { SqliteStore } from "../src/store/sqlite.ts";
import { RedisStore } from "../src/store/redis.ts";
import {
  installLastResortHandlers,
  reportOpenFilesLimit,
} from "./_last_resort.ts";
import { passwd, PASSWD_USAGE, UsageError } from "./_passwd.ts";
import { applyClusterFlags, clusterBus } from "./_cluster.ts";
import { ClusterError } from "../src/cluster/redis_bus.ts";
import {
  applyPersistenceFlag,
  closeStore,
  openStore,
  storeError,
} from "./_persistence.ts";

const VERSION = `${denoJson.name} ${denoJson.version}`;

const USAGE = `Usage: broker [options]
       broker passwd FILE USER [--password PASSWORD]

Runs an MQTT 3.1, 3.1.1 and 5.0 broker. With no options it listens on
0.0.0.0:1883 (TCP) and lets anonymous clients in. Flags override the
configuration file.

Options:
  -c, --config FILE      YAML configuration file
  -p, --port PORT        port of the TCP listener (added if the file has none)
      --host HOST        address every listener binds (default 0.0.0.0)
      --ws-port PORT     port of the WebSocket listener, any path (added if
                         the file has none)
      --tls-port PORT    port of the TLS listener (added if the file has none;
                         needs --tls-cert and --tls-key then)
      --tls-cert FILE    PEM certificate chain of the TLS listener
      --tls-key FILE     PEM private key of the TLS listener
      --log-level LEVEL  debug, info, warn, error or off (default info)
      --log-format FMT   text or json (default text)
      --api-port PORT    serve the HTTP API on this port (on 127.0.0.1 unless
                         the file's api.address names another host)
      --api-host HOST    address the HTTP API binds (default 127.0.0.1; needs
                         --api-port or an api section in the file)
      --no-dashboard     serve the HTTP API without the web dashboard at /ui/
      --sys-interval S   seconds between $SYS publications, fractions allowed;
                         0 turns them off (default 10)
      --persistence P    where state is kept: memory (default), sqlite (the
                         file's persistence.path, or gmqtt.db) or sqlite:FILE
                         (relative to the working folder)
      --cluster-redis URL  join the cluster of the brokers on this Redis
                         (redis:// or rediss://); state is kept there
      --cluster-node-id ID  this node's id in the cluster (default: host
                         name and the first listener's port)
  -h, --help             print this help
  -v, --version          print the version

Subcommands:
  passwd FILE USER       add a user to a password file, or change its
                         password (see broker passwd --help)

Exit codes: 0 after a graceful stop (Ctrl-C, SIGTERM), 2 for a bad flag or
configuration, 1 for an unexpected failure.
`;

const LEVELS: readonly string[] = ["debug", "info", "warn", "error", "off"];
const FORMATS: readonly string[] = ["text", "json"];

/**
 * Runs the broker command: parses the arguments, loads the configuration,
 * starts the server and serves until SIGINT or SIGTERM, then stops it
 * gracefully. A second signal during the stop exits at once.
 *
 * @example Print the help
 * ```ts
 * import { main } from "@gmqtt/broker/cmd";
 * import { strictEqual } from "node:assert/strict";
 *
 * strictEqual(await main(["--help"]), 0);
 * ```
 * @param args The command-line arguments, without the program's name.
 * @returns The exit code: 0 after a graceful stop or for `--help` and
 * `--version`, 2 for a bad flag or configuration.
 */
export async function main(args: string[]): Promise<number> {
  try {
    if (args[0] === "passwd") return await passwd(args.slice(1));
    return await run(args);
  } catch (error) {
    if (error instanceof ConfigError || error instanceof UsageError) {
      console.error(error.message);
      return 2;
    }
    throw error;
  }
}

async function run(args: string[]): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args,
      strict: true,
      allowPositionals: false,
      options: {
        config: { type: "string", short: "c" },
        port: { type: "string", short: "p" },
        host: { type: "string" },
        "ws-port": { type: "string" },
        "tls-port": { type: "string" },
        "tls-cert": { type: "string" },
        "tls-key": { type: "string" },
        "log-level": { type: "string" },
        "log-format": { type: "string" },
        "api-port": { type: "string" },
        "api-host": { type: "string" },
        "no-dashboard": { type: "boolean" },
        "sys-interval": { type: "string" },
        persistence: { type: "string" },
        "cluster-redis": { type: "string" },
        "cluster-node-id": { type: "string" },
        help: { type: "boolean", short: "h" },
        version: { type: "boolean", short: "v" },
      },
    });
  } catch (error) {
    // Some messages of parseArgs() span lines: keep the error on one.
    const message = error instanceof Error ? error.message : String(error);
    throw new UsageError(
      `Cannot start broker: ${message.replace(/\s*\n\s*/g, " ")}; see --help`,
    );
  }
  const flags = parsed.values;
  if (flags.help) {
    console.log(`${USAGE}\n${PASSWD_USAGE}`);
    return 0;
  }
  if (flags.version) {
    console.log(VERSION);
    return 0;
  }
  const config = flags.config === undefined
    ? defaultConfig()
    : await loadConfig(flags.config);
  await applyFlags(config, flags);

  // Hold log records back until every listener is open: a failed start then
  // prints only its one-line error.
  const stream = new StreamHandler({ format: config.log.format });
  const held: LogRecord[] = [];
  let holding = true;
  const logger = new Logger("broker", config.log.level, {
    handlers: [{
      handle(record: LogRecord): void {
        if (holding) held.push(record);
        else stream.handle(record);
      },
    }],
  });
  // Opened before the server, closed after it: the store is ours to close.
  const store = await openStore(config, logger);
  try {
    return await serve(config, logger, store, () => {
      holding = false;
      for (const record of held.splice(0)) stream.handle(record);
    });
  } finally {
    await closeStore(store, logger);
  }
}

/**
 * Starts the server with its listeners and API, serves until a signal,
 * and stops it; `release` prints the logs held back once all is open.
 */
async function serve(
  config: BrokerConfig,
  logger: Logger,
  store: SqliteStore | RedisStore | undefined,
  release: () => void,
): Promise<number> {
  let server: Server | undefined;
  const serverOptions = toServerOptions(config);
  const bus = clusterBus(config, logger, () => {
    const m = server?.metrics();
    return {
      clients: m?.sessionsActive ?? 0,
      subscriptions: m?.subscriptionsCurrent ?? 0,
    };
  });
  try {
    server = new Server({
      ...serverOptions,
      logger,
      ...(store !== undefined ? { store } : {}),
      ...(bus !== undefined ? { bus } : {}),
    });
  } catch (error) {
    if (error instanceof RangeError || error instanceof TypeError) {
      throw new UsageError(`Cannot start broker: ${error.message}`);
    }
    throw error;
  }
  // Listen for signals before any connection is accepted: Deno needs a
  // descriptor for it, and a flood of connections may leave none later.
  const signals = listenForSignals(logger);
  try {
    await server.start();
  } catch (error) {
    signals.remove();
    await server.stop({ timeout: 0 }).catch(() => {});
    // Redis unreachable, or the node id taken: one line, exit 2.
    if (error instanceof ClusterError) {
      throw new UsageError(`Cannot start broker: ${error.message}`);
    }
    // Starting reads the store back: a failure there is the store's.
    if (store === undefined) throw error;
    if (store instanceof RedisStore) {
      throw new UsageError(
        `Cannot start broker: cannot read the Redis store ${store.url}: ${
          error instanceof Error ? error.message : String(error)
        }`,
      );
    }
    throw storeError(config, "read", error);
  }
  const listens = toListenOptions(config);
  for (const [i, options] of listens.entries()) {
    try {
      server.listen(options);
    } catch (error) {
      await server.stop({ timeout: 0 });
      signals.remove();
      throw new UsageError(
        listenError(config, config.listeners[i]!, i, error),
      );
    }
  }
  let api: ApiServer | undefined;
  if (config.api !== undefined) {
    try {
      api = serveApi(server, await apiOptions(config.api, logger));
    } catch (error) {
      await server.stop({ timeout: 0 });
      signals.remove();
      throw new UsageError(apiError(config, config.api, error));
    }
  }
  release();
  logger.info("started", { version: denoJson.version });
  reportOpenFilesLimit(
    logger,
    resolveOptions(serverOptions).resolved.maxConnections,
  );
  // A safety net: an error nothing caught is logged, and serving goes on.
  const uninstall = installLastResortHandlers(logger);

  const signal = await signals.received;
  logger.info("signal received, stopping", { signal });
  await api?.shutdown();
  await server.stop();
  uninstall();
  return 0;
}

/**
 * Listens for the signals that stop the broker: the first resolves
 * `received`, a second exits at once.
 */
function listenForSignals(
  logger: Logger,
): { received: Promise<string>; remove(): void } {
  const names: Deno.Signal[] = Deno.build.os === "windows"
    ? ["SIGINT", "SIGBREAK"]
    : ["SIGINT", "SIGTERM"];
  const listeners: [Deno.Signal, () => void][] = [];
  const received = new Promise<string>((resolve) => {
    let got = false;
    for (const name of names) {
      const listener = () => {
        if (got) {
          logger.warn("second signal: exiting without waiting", {
            signal: name,
          });
          Deno.exit(1);
        }
        got = true;
        resolve(name);
      };
      Deno.addSignalListener(name, listener);
      listeners.push([name, listener]);
    }
  });
  return {
    received,
    remove: () => {
      for (const [name, listener] of listeners) {
        Deno.removeSignalListener(name, listener);
      }
    },
  };
}

interface Flags {
  config?: string | undefined;
  port?: string | undefined;
  host?: string | undefined;
  "ws-port"?: string | undefined;
  "tls-port"?: string | undefined;
  "tls-cert"?: string | undefined;
  "tls-key"?: string | undefined;
  "log-level"?: string | undefined;
  "log-format"?: string | undefined;
  "api-port"?: string | undefined;
  "api-host"?: string | undefined;
  "no-dashboard"?: boolean | undefined;
  "sys-interval"?: string | undefined;
  persistence?: string | undefined;
  "cluster-redis"?: string | undefined;
  "cluster-node-id"?: string | undefined;
}

/** Changes the configuration as the flags say; flags win over the file. */
async function applyFlags(config: BrokerConfig, flags: Flags): Promise<void> {
  const level = flags["log-level"];
  if (level !== undefined) {
    if (!LEVELS.includes(level)) {
      throw flagError("--log-level", `expected ${LEVELS.join(", ")}`, level);
    }
    config.log.level = level as LevelName | "off";
  }
  const format = flags["log-format"];
  if (format !== undefined) {
    if (!FORMATS.includes(format)) {
      throw flagError("--log-format", "expected text or json", format);
    }
    config.log.format = format as LogFormat;
  }
  const listeners = config.listeners;
  const host = flags.host;
  const isTcp = (l: ListenerConfig) => !l.tls && !l.websocket;
  const isWs = (l: ListenerConfig) => !l.tls && l.websocket !== undefined;
  const isTls = (l: ListenerConfig) => l.tls !== undefined && !l.websocket;
  const port = portFlag("--port", flags.port);
  if (port !== undefined) {
    const l = listeners.find(isTcp);
    if (l !== undefined) {
      l.port = port;
      delete l.line;
    } else listeners.push({ hostname: "0.0.0.0", port });
  }
  const wsPort = portFlag("--ws-port", flags["ws-port"]);
  if (wsPort !== undefined) {
    const l = listeners.find(isWs);
    if (l !== undefined) {
      l.port = wsPort;
      delete l.line;
    } else {
      listeners.push({
        hostname: "0.0.0.0",
        port: wsPort,
        websocket: {},
      });
    }
  }
  const tlsPort = portFlag("--tls-port", flags["tls-port"]);
  const cert = flags["tls-cert"];
  const key = flags["tls-key"];
  let tls = listeners.find(isTls);
  if (tlsPort !== undefined) {
    if (tls !== undefined) {
      tls.port = tlsPort;
      delete tls.line;
    } else {
      if (cert === undefined || key === undefined) {
        throw new UsageError(
          "Cannot start broker: --tls-port needs --tls-cert and --tls-key (or a TLS listener in the configuration file)",
        );
      }
      tls = { hostname: "0.0.0.0", port: tlsPort };
      listeners.push(tls);
    }
  }
  for (const [flag, file] of [["--tls-cert", cert], ["--tls-key", key]]) {
    if (file === undefined || flag === undefined) continue;
    if (tls === undefined) {
      throw new UsageError(
        `Cannot start broker: ${flag} needs --tls-port (or a TLS listener in the configuration file)`,
      );
    }
    const problem = await pemProblem(file);
    if (problem !== undefined) {
      throw new UsageError(`Cannot start broker: ${flag}: ${problem}`);
    }
    delete tls.line;
    tls.tls = {
      certFile: flag === "--tls-cert" ? file : tls.tls?.certFile ?? file,
      keyFile: flag === "--tls-key" ? file : tls.tls?.keyFile ?? file,
    };
  }
  if (host !== undefined) {
    if (host === "") throw flagError("--host", "expected an address", host);
    for (const l of listeners) {
      l.hostname = host.replace(/^\[(.*)\]$/, "$1");
      delete l.line;
    }
  }
  applyApiFlags(config, flags);
}

/** The flags of the HTTP API and the $SYS topics. */
function applyApiFlags(config: BrokerConfig, flags: Flags): void {
  const apiPort = portFlag("--api-port", flags["api-port"]);
  if (apiPort !== undefined) {
    if (config.api === undefined) {
      config.api = { hostname: "127.0.0.1", port: apiPort };
    } else {
      config.api.port = apiPort;
      delete config.api.line;
    }
  }
  const apiHost = flags["api-host"];
  if (apiHost !== undefined) {
    if (apiHost === "") {
      throw flagError("--api-host", "expected an address", apiHost);
    }
    if (config.api === undefined) {
      throw new UsageError(
        "Cannot start broker: --api-host needs --api-port (or an api section in the configuration file)",
      );
    }
    config.api.hostname = apiHost.replace(/^\[(.*)\]$/, "$1");
    delete config.api.line;
  }
  if (flags["no-dashboard"]) {
    if (config.api === undefined) {
      throw new UsageError(
        "Cannot start broker: --no-dashboard needs --api-port (or an api section in the configuration file)",
      );
    }
    config.api.dashboard = false;
  }
  const sys = flags["sys-interval"];
  if (sys !== undefined) {
    const seconds = Number(sys);
    if (!/^[0-9]+(?:\.[0-9]+)?$/.test(sys) || seconds > 86400) {
      throw flagError(
        "--sys-interval",
        "expected seconds from 0 to 86400",
        sys,
      );
    }
    config.sysInterval = seconds;
  }
  applyPersistenceFlag(config, flags.persistence);
  applyClusterFlags(
    config,
    flags["cluster-redis"],
    flags["cluster-node-id"],
  );
}

/** The options of `serveApi()`, with the TLS files read. */
async function apiOptions(
  api: ApiConfig,
  logger: Logger,
): Promise<ServeApiOptions> {
  return {
    hostname: api.hostname,
    port: api.port,
    logger,
    ...(api.token !== undefined ? { token: api.token } : {}),
    ...(api.basic !== undefined ? { basic: api.basic } : {}),
    ...(api.allowUnauthenticated ? { allowUnauthenticated: true } : {}),
    ...(api.headerTimeout !== undefined
      ? { headerTimeout: api.headerTimeout }
      : {}),
    ...(api.idleTimeout !== undefined ? { idleTimeout: api.idleTimeout } : {}),
    ...(api.maxConnections !== undefined
      ? { maxConnections: api.maxConnections }
      : {}),
    ...(api.dashboard !== undefined ? { dashboard: api.dashboard } : {}),
    ...(api.maxWatchStreams !== undefined
      ? { maxWatchStreams: api.maxWatchStreams }
      : {}),
    ...(api.watchRate !== undefined ? { watchRate: api.watchRate } : {}),
    ...(api.tls !== undefined
      ? {
        cert: await Deno.readTextFile(api.tls.certFile),
        key: await Deno.readTextFile(api.tls.keyFile),
      }
      : {}),
  };
}

function portFlag(flag: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const port = Number(value);
  if (!/^[0-9]{1,5}$/.test(value) || port > 65535) {
    throw flagError(flag, "expected a port from 0 to 65535", value);
  }
  return port;
}

function flagError(flag: string, expected: string, got: string): UsageError {
  return new UsageError(
    `Cannot start broker: ${flag}: ${expected}, got ${JSON.stringify(got)}`,
  );
}

/** The one-line message for a listener that could not be opened. */
function listenError(
  config: BrokerConfig,
  listener: ListenerConfig,
  index: number,
  error: unknown,
): string {
  const [key, detail] = bindProblem(listener, error);
  const where = config.file === undefined || listener.line === undefined
    ? ""
    : `${config.file}:${listener.line}: listeners[${index}].${key}: `;
  return `Cannot start broker: ${where}${detail}`;
}

/** The one-line message for an HTTP API that could not be served. */
function apiError(
  config: BrokerConfig,
  api: ApiConfig,
  error: unknown,
): string {
  const [key, detail] = bindProblem(api, error);
  const where = config.file === undefined || api.line === undefined
    ? ""
    : `${config.file}:${api.line}: `;
  return `Cannot start broker: ${where}api.${key}: ${detail}`;
}

/** The key ("address" or "tls") and the detail of a failed bind. */
function bindProblem(
  at: { hostname: string; port: number; tls?: unknown },
  error: unknown,
): ["address" | "tls", string] {
  const address = `${
    at.hostname.includes(":") ? `[${at.hostname}]` : at.hostname
  }:${at.port}`;
  const message = error instanceof Error ? error.message : String(error);
  if (error instanceof Deno.errors.AddrInUse) {
    return ["address", `cannot listen on ${address}: the address is in use`];
  } else if (error instanceof Deno.errors.PermissionDenied) {
    return ["address", `cannot listen on ${address}: permission denied`];
  } else if (error instanceof Deno.errors.AddrNotAvailable) {
    return [
      "address",
      `cannot listen on ${address}: no such address on this machine`,
    ];
  } else if (at.tls !== undefined) {
    return ["tls", `cannot use the certificate and key: ${message}`];
  }
  return ["address", `cannot listen on ${address}: ${message}`];
}

if (import.meta.main) {
  Deno.exit(await main(Deno.args));
}
