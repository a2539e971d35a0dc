/**
 * Reads the `api` section of a configuration file: where and how the HTTP
 * API is served.
 *
 * @module
 */

import { type Checker, parseDuration, show } from "./_check.ts";
import type { Path } from "./_error.ts";
import type { ApiConfig } from "./types.ts";
import { isLoopback } from "../api/handler.ts";

/** Where the API listens when `api.address` is not set. */
const API_HOSTNAME = "127.0.0.1";
const API_PORT = 8083;

/** The `api` section; `undefined` when it says `enabled: false`. */
export function readApi(c: Checker, value: unknown): ApiConfig | undefined {
  const at = ["api"];
  const a = value === null ? {} : c.mapping(value, at, [
    "enabled",
    "address",
    "token",
    "token_env",
    "basic",
    "tls",
    "allow_unauthenticated",
    "header_timeout",
    "idle_timeout",
    "max_connections",
    "dashboard",
    "max_watch_streams",
    "watch_rate",
  ]);
  const enabled = a.enabled === undefined
    ? true
    : c.bool(a.enabled, [...at, "enabled"]);
  const config: ApiConfig = a.address === undefined
    ? { hostname: API_HOSTNAME, port: API_PORT }
    : c.address(a.address, [...at, "address"]);
  const line = c.line(a.address === undefined ? at : [...at, "address"]);
  if (line !== undefined) config.line = line;
  if (a.token !== undefined) {
    config.token = c.nonEmpty(a.token, [...at, "token"]);
  }
  if (a.token_env !== undefined) {
    if (a.token !== undefined) {
      c.fail([...at, "token_env"], 'expected either "token" or "token_env"');
    }
    const name = c.string(a.token_env, [...at, "token_env"]);
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) {
      c.fail(
        [...at, "token_env"],
        `expected the name of an environment variable, got ${show(name)}`,
      );
    }
    config.tokenEnv = name;
  }
  if (a.basic !== undefined) {
    const basicAt = [...at, "basic"];
    const basic = c.mapping(a.basic, basicAt, ["username", "password"]);
    for (const key of ["username", "password"]) {
      if (basic[key] === undefined) c.fail(basicAt, `expected "${key}"`);
    }
    const username = c.nonEmpty(basic.username, [...basicAt, "username"]);
    if (username.includes(":")) {
      c.fail(
        [...basicAt, "username"],
        `expected a name without ":", got ${show(username)}`,
      );
    }
    const password = c.nonEmpty(basic.password, [...basicAt, "password"]);
    config.basic = { username, password };
  }
  if (a.tls !== undefined) {
    const tlsAt = [...at, "tls"];
    config.tls = c.pemFiles(c.mapping(a.tls, tlsAt, ["cert", "key"]), tlsAt);
  }
  if (a.allow_unauthenticated !== undefined) {
    config.allowUnauthenticated = c.bool(a.allow_unauthenticated, [
      ...at,
      "allow_unauthenticated",
    ]);
  }
  if (a.header_timeout !== undefined) {
    config.headerTimeout = milliseconds(c, a.header_timeout, [
      ...at,
      "header_timeout",
    ]);
  }
  if (a.idle_timeout !== undefined) {
    config.idleTimeout = milliseconds(c, a.idle_timeout, [
      ...at,
      "idle_timeout",
    ]);
  }
  if (a.max_connections !== undefined) {
    config.maxConnections = count(c, a.max_connections, [
      ...at,
      "max_connections",
    ]);
  }
  if (a.dashboard !== undefined) {
    config.dashboard = c.bool(a.dashboard, [...at, "dashboard"]);
  }
  if (a.max_watch_streams !== undefined) {
    config.maxWatchStreams = count(c, a.max_watch_streams, [
      ...at,
      "max_watch_streams",
    ]);
  }
  if (a.watch_rate !== undefined) {
    config.watchRate = count(c, a.watch_rate, [...at, "watch_rate"]);
  }
  if (
    enabled && !config.allowUnauthenticated && config.token === undefined &&
    config.tokenEnv === undefined && config.basic === undefined &&
    !isLoopback(config.hostname)
  ) {
    c.fail(
      [...at, "address"],
      `the API would listen on ${
        show(config.hostname)
      } without credentials: set token, token_env or basic, bind 127.0.0.1, or set allow_unauthenticated: true`,
    );
  }
  return enabled ? config : undefined;
}

/** Longest API timeout: an hour. */
const MAX_API_TIMEOUT = 3600;

/** A duration from 1 ms to an hour, in milliseconds. */
function milliseconds(c: Checker, value: unknown, at: Path): number {
  const seconds = parseDuration(value);
  if (seconds === undefined || seconds < 0.001 || seconds > MAX_API_TIMEOUT) {
    c.fail(
      at,
      `expected a duration from 1ms to ${MAX_API_TIMEOUT} seconds (seconds as a number, or a string such as "10s", "500ms"), got ${
        show(value)
      }`,
    );
  }
  return Math.round(seconds * 1000);
}

/** An integer from 1 to 65535. */
function count(c: Checker, n: unknown, at: Path): number {
  if (typeof n !== "number" || !Number.isInteger(n) || n < 1 || n > 65535) {
    c.fail(at, `expected an integer from 1 to 65535, got ${show(n)}`);
  }
  return n;
}
