/**
 * Serves the HTTP API over the broker's own HTTP/1.1 server (bounded
 * requests, timeouts, a connection cap; see {@linkcode ServeApiOptions}).
 *
 * @module
 */

import { silentLogger } from "../observe/logger.ts";
import { HTTP_LIMITS, HttpServer } from "../transport/http1.ts";
import type { Server } from "../server/server.ts";
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
  /**
   * Milliseconds a client has to send a whole request once it started
   * (and a new connection its first request), 10000 by default; the
   * connection is closed past it.
   */
  headerTimeout?: number;
  /** Milliseconds a kept-alive connection may stay idle, 5000 by default. */
  idleTimeout?: number;
  /** HTTP connections served at once, 1024 by default; more are closed at once. */
  maxConnections?: number;
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
  readonly #http: HttpServer;
  readonly #finished: Promise<void>;
  #resolveFinished: () => void = () => {};
  #stopping: Promise<void> | undefined;

  /**
   * Starts serving; use {@linkcode serveApi}.
   *
   * @param server The server to show and act on.
   * @param options Address, TLS material and the API's options.
   * @throws {Deno.errors.AddrInUse} If the port is taken.
   */
  constructor(server: Server, options: ServeApiOptions = {}) {
    const handler = apiHandler(server, options);
    const logger = options.logger ?? silentLogger();
    if ((options.cert === undefined) !== (options.key === undefined)) {
      throw new TypeError(
        "Cannot serve the API with TLS: both a certificate and a key are needed",
      );
    }
    const address = {
      hostname: options.hostname ?? "127.0.0.1",
      port: options.port ?? 8083,
    };
    const tls = options.cert !== undefined && options.key !== undefined;
    const listener = tls
      ? Deno.listenTls({ ...address, cert: options.cert!, key: options.key! })
      : Deno.listen(address);
    this.#http = new HttpServer(listener, {
      name: "api",
      logger,
      scheme: tls ? "https" : "http",
      handler: (request) => handler(request),
      limits: {
        headerTimeout: options.headerTimeout ?? HTTP_LIMITS.headerTimeout,
        idleTimeout: options.idleTimeout ?? HTTP_LIMITS.idleTimeout,
        maxConnections: options.maxConnections ?? HTTP_LIMITS.maxConnections,
        // Bodies past the API's own limit get its JSON 413 answer.
        maxBodyBytes: Math.max(options.maxBodySize ?? 1 << 20, 1 << 20),
      },
    });
    this.#finished = new Promise((resolve) => this.#resolveFinished = resolve);
    logger.info("api listening", { ...this.address });
  }

  /** The bound address. */
  get address(): ApiAddress {
    return this.#http.address;
  }

  /** Resolves once the HTTP server has stopped. */
  get finished(): Promise<void> {
    return this.#finished;
  }

  /**
   * Stops accepting requests, ends streaming responses and waits for the
   * requests in progress to finish.
   *
   * @returns A promise that resolves once stopped.
   */
  shutdown(): Promise<void> {
    this.#stopping ??= this.#http.close().then(() => this.#resolveFinished());
    return this.#stopping;
  }

  /** Same as {@linkcode ApiServer.shutdown}, for `await using`. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.shutdown();
  }
}

/**
 * Serves the HTTP API of a server (see {@linkcode apiHandler} for the
 * endpoints) on 127.0.0.1:8083 unless told otherwise.
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
