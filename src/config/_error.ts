/**
 * The error of a bad configuration file, and the key paths it names.
 *
 * @module
 */

/** A key path: keys and list indexes from the document's root. */
export type Path = readonly (string | number)[];

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

/** Writes a key path as in messages: `listeners[1].tls.cert`. */
export function formatPath(at: Path): string {
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
