/**
 * The server: what an embedding program holds. {@linkcode Server} opens
 * the listeners, serves each connection with the protocol layer, runs the
 * housekeeping timer, stops gracefully, and offers the embedding API
 * (publish, subscribe on a client's behalf, clients, sessions,
 * subscriptions, retained messages, kick, metrics). Its options fill in
 * every default and pick the store and the bus.
 *
 * It imports every layer below it; the API and the config import it.
 *
 * @example A broker on a free local port
 * ```ts
 * import { Server } from "./mod.ts";
 *
 * const server = new Server();
 * server.listen({ hostname: "127.0.0.1", port: 0 });
 * await server.start();
 * await server.stop();
 * ```
 *
 * @module
 */

export * from "./server.ts";
export * from "./options.ts";
export * from "./summaries.ts";
