/**
 * Reads the `api` section of a configuration file: where and how the HTTP
 * API is served.
 *
 * @module
 */

import { type Checker, show } from "./_config_check.ts";
import type { ApiConfig } from "./config.ts";
import { isLoopback } from "./api/handler.ts";

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
