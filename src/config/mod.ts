/**
 * The configuration of the `cmd/broker.ts` command: the YAML subset it
 * reads (the shape of `@std/yaml`'s `parse`), the sections and their
 * checks, each error naming its field, and how a configuration becomes
 * server, listener and API options.
 *
 * It imports the server and the API, which it configures; only `cmd/`
 * imports it.
 *
 * @example Read a configuration from text
 * ```ts
 * import { parseConfig, toServerOptions } from "./mod.ts";
 *
 * const config = parseConfig("mqtt:\n  max_inflight: 32\n");
 * const options = toServerOptions(config);
 * if (options.maxInflight !== 32) throw new Error("not read");
 * ```
 *
 * @module
 */

export * from "./config.ts";
export type * from "./types.ts";
export { parse as parseYaml, YamlError } from "./yaml.ts";
