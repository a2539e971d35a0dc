/**
 * Observing the broker: the leveled logger (the shape of `@std/log`), the
 * Prometheus text exposition of the server's counters, and the `$SYS`
 * topics that publish them over MQTT.
 *
 * It imports the core's counters and the shared vocabulary; never the
 * protocol, server, API or config layers.
 *
 * @example Log as JSON lines
 * ```ts
 * import { Logger, StreamHandler } from "./mod.ts";
 *
 * const logger = new Logger("broker", "info", {
 *   handlers: [new StreamHandler({ format: "json" })],
 * });
 * logger.debug("not written");
 * ```
 *
 * @module
 */

export * from "./logger.ts";
export * from "./prometheus.ts";
export * from "./sys.ts";
