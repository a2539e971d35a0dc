/**
 * Checks of single configuration values: each narrows an `unknown` from the
 * parsed YAML or throws a {@linkcode ConfigError} naming its key path and
 * line.
 *
 * @module
 */

import { ConfigError, formatPath, type Path } from "./_error.ts";
import { locate } from "./_locate.ts";

/** Checks values of one configuration text, failing on the first problem. */
export class Checker {
  readonly #text: string;
  readonly #file: string;
  readonly #dir: string;

  /**
   * Makes a checker for one text.
   *
   * @param text The YAML text, to find lines in.
   * @param file The file's name, for messages and relative paths.
   */
  constructor(text: string, file: string) {
    this.#text = text;
    this.#file = file;
    const slash = Math.max(file.lastIndexOf("/"), file.lastIndexOf("\\"));
    this.#dir = slash === -1 ? "" : file.slice(0, slash + 1);
  }

  /** The file's name, as given. */
  get file(): string {
    return this.#file;
  }

  /** The line of a key path, from 1, when it can be found. */
  line(at: Path): number | undefined {
    return locate(this.#text, at);
  }

  /** A mapping whose keys are all among `keys`. */
  mapping(
    value: unknown,
    at: Path,
    keys: readonly string[],
  ): Record<string, unknown> {
    if (value === null || typeof value !== "object" || Array.isArray(value)) {
      this.fail(at, `expected a mapping, got ${show(value)}`);
    }
    const map = value as Record<string, unknown>;
    for (const key of Object.keys(map)) {
      if (!keys.includes(key)) {
        this.fail(
          [...at, key],
          `unknown key; expected one of ${keys.join(", ")}`,
        );
      }
    }
    return map;
  }

  /** A list. */
  list(value: unknown, at: Path): unknown[] {
    if (!Array.isArray(value)) {
      this.fail(at, `expected a list, got ${show(value)}`);
    }
    return value;
  }

  /** A string. */
  string(value: unknown, at: Path): string {
    if (typeof value !== "string") {
      this.fail(at, `expected a string, got ${show(value)}`);
    }
    return value;
  }

  /** A boolean. */
  bool(value: unknown, at: Path): boolean {
    if (typeof value !== "boolean") {
      this.fail(at, `expected true or false, got ${show(value)}`);
    }
    return value;
  }

  /** One of a few strings. */
  oneOf<T extends string>(value: unknown, at: Path, choices: readonly T[]): T {
    if (
      typeof value !== "string" ||
      !(choices as readonly string[]).includes(value)
    ) {
      this.fail(
        at,
        `expected one of ${choices.join(", ")}, got ${show(value)}`,
      );
    }
    return value as T;
  }

  /** A file path, made relative to the configuration file's folder. */
  path(value: unknown, at: Path): string {
    const path = this.string(value, at);
    if (path === "") {
      this.fail(at, "expected a file path, got an empty string");
    }
    return isAbsolute(path) ? path : this.#dir + path;
  }

  /** An address such as ":1883", "127.0.0.1:1883" or "[::1]:1883". */
  address(
    value: unknown,
    at: Path,
  ): { hostname: string; port: number } {
    const address = typeof value === "string" ? parseAddress(value) : undefined;
    if (address === undefined) {
      this.fail(
        at,
        `expected "host:port" or ":port" with a port from 0 to 65535, got ${
          show(value)
        }`,
      );
    }
    return address;
  }

  /** A string that is not empty. */
  nonEmpty(value: unknown, at: Path): string {
    const text = this.string(value, at);
    if (text === "") this.fail(at, "expected a non-empty string");
    return text;
  }

  /** The `cert` and `key` of a TLS mapping, both required, as file paths. */
  pemFiles(
    tls: Record<string, unknown>,
    at: Path,
  ): { certFile: string; keyFile: string } {
    for (const key of ["cert", "key"] as const) {
      if (tls[key] === undefined) {
        this.fail(at, `expected "${key}", the path of a PEM file`);
      }
    }
    return {
      certFile: this.path(tls.cert, [...at, "cert"]),
      keyFile: this.path(tls.key, [...at, "key"]),
    };
  }

  /** Throws a {@linkcode ConfigError} for a key path. */
  fail(at: Path, detail: string): never {
    throw new ConfigError(this.#file, this.line(at), formatPath(at), detail);
  }
}

/**
 * Reads an address such as ":1883", "127.0.0.1:1883" or "[::1]:1883";
 * `undefined` if it is not one.
 */
export function parseAddress(
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
export function parseDuration(value: unknown): number | undefined {
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

/** A value as messages show it: JSON, or its kind for collections. */
export function show(value: unknown): string {
  if (value === null || value === undefined) return "nothing";
  if (Array.isArray(value)) return "a list";
  if (typeof value === "object") return "a mapping";
  return JSON.stringify(value);
}

function isAbsolute(path: string): boolean {
  return path.startsWith("/") || path.startsWith("\\") ||
    /^[A-Za-z]:[\\/]/.test(path);
}
