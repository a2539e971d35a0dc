/**
 * Serves the HTTP API with `Deno.serve`.
 *
 * @module
 */

import type { Server } from "../server.ts";
import { apiHandler, type ApiOptions } from "./handler.ts";

/** Options for {@linkcode serveApi}. */
export interface ServeApiOptions extends ApiOptions {
  /** Address to bind; "127.0.0.1" by default, so only local programs reach it. */
  hostname?: string;
  /** Port to bind, 0 for any free one; 8083 by default. */
  port?: number;
  /** PEM certificate chain: HTTPS when given with `key`. */
  cert?: string;
  /** PEM private key. */
  key?: string;
}

/** The address an {@linkcode ApiServer} is bound to. */
export interface ApiAddress {
  /** The bound address. */
  readonly hostname: string;
  /** The bound port (the real one when 0 was asked). */
  readonly port: number;
}

/**
 * A running HTTP API; see {@linkcode serveApi}.
 *
 * @example Serve the API on a free port, then stop it
 * ```ts
 * import { Server, serveApi } from "@gmqtt/broker";
 * import { strictEqual } from "node:assert/strict";
 *
 * const server = new Server();
 * await using api = serveApi(server, { port: 0 });
 * const response = await fetch(
 *   `http://127.0.0.1:${api.address.port}/healthz`,
 * );
 * strictEqual(response.status, 200);
 * await response.body?.cancel();
 * ```
 */
export class ApiServer implements AsyncDisposable {
  readonly #http: Deno.HttpServer<Deno.NetAddr>;

  /**
   * Starts serving; use {@linkcode serveApi}.
   *
   * @param server The server to show and act on.
   * @param options Address, TLS material and the API's options.
   * @throws {Deno.errors.AddrInUse} If the port is taken.
   */
  constructor(server: Server, options: ServeApiOptions = {}) {
    const handler = apiHandler(server, options);
    const logger = options.logger;
    const tls = options.cert !== undefined && options.key !== undefined
      ? { cert: options.cert, key: options.key }
      : {};
    if ((options.cert === undefined) !== (options.key === undefined)) {
      throw new TypeError(
        "Cannot serve the API with TLS: both a certificate and a key are needed",
      );
    }
    this.#http = Deno.serve({
      hostname: options.hostname ?? "127.0.0.1",
      port: options.port ?? 8083,
      ...tls,
      onListen: () => {},
      onError: (error) => {
        logger?.error("api request failed", { error: String(error) });
        return new Response('{"error":"Cannot answer: internal error"}\n', {
          status: 500,
          headers: { "content-type": "application/json; charset=utf-8" },
        });
      },
    }, handler);
    logger?.info("api listening", { ...this.address });
  }

  /** The bound address. */
  get address(): ApiAddress {
    const { hostname, port } = this.#http.addr;
    return { hostname, port };
  }

  /** Resolves once the HTTP server has stopped. */
  get finished(): Promise<void> {
    return this.#http.finished;
  }

  /**
   * Stops accepting requests and waits for those in progress to finish.
   *
   * @returns A promise that resolves once stopped.
   */
  shutdown(): Promise<void> {
    return this.#http.shutdown();
  }

  /** Same as {@linkcode ApiServer.shutdown}, for `await using`. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.shutdown();
  }
}

/**
 * Serves the HTTP API of a server (see {@linkcode apiHandler} for the
 * endpoints) with `Deno.serve`, on 127.0.0.1:8083 unless told otherwise.
 *
 * @example Serve the API with a bearer token
 * ```ts
 * import { Server, serveApi } from "@gmqtt/broker";
 * import { strictEqual } from "node:assert/strict";
 *
 * const server = new Server();
 * const api = serveApi(server, { port: 0, token: "s3cret" });
 * const response = await fetch(
 *   `http://127.0.0.1:${api.address.port}/api/v1/clients`,
 *   { headers: { authorization: "Bearer s3cret" } },
 * );
 * strictEqual((await response.json()).total, 0);
 * await api.shutdown();
 * ```
 * @param server The server to show and act on.
 * @param options Address, credentials and limits.
 * @returns The running API, to shut down when done.
 * @throws {Deno.errors.AddrInUse} If the port is taken.
 */
export function serveApi(
  server: Server,
  options: ServeApiOptions = {},
): ApiServer {
  return new ApiServer(server, options);
}
