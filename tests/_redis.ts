/**
 * A throwaway `redis-server` for tests (Debian package `redis-server`):
 * started on a free loopback port with no persistence, stopped by PID, and
 * restartable on the same port to test reconnection.
 *
 * ```ts
 * import { startRedisServer } from "./_redis.ts";
 * import { RedisClient } from "../src/redis/mod.ts";
 * import { strictEqual } from "node:assert/strict";
 *
 * await using redis = await startRedisServer({ args: ["--requirepass", "pw"] });
 * await using client = new RedisClient(`redis://:pw@127.0.0.1:${redis.port}`);
 * strictEqual(await client.send(["SET", "k", "v"]), "OK");
 * await redis.restart(); // Same port, empty data; the client reconnects.
 * strictEqual(await client.send(["GET", "k"]), null);
 * ```
 *
 * @module
 */

import type { TestCertificate } from "./_tls.ts";
import { freePort } from "./_harness.ts";

/** Options for {@linkcode startRedisServer}. */
export interface RedisServerOptions {
  /**
   * More `redis-server` arguments, such as `["--requirepass", "pw"]` or
   * `["--user", "app", "on", ">pw", "~*", "&*", "+@all"]`; none by default.
   */
  args?: string[];
  /**
   * Serve only TLS, with this certificate (also its CA); plain TCP by
   * default. The `url` is then `rediss://`.
   */
  tls?: TestCertificate;
  /** Milliseconds to wait for the first PONG; 10 000 by default. */
  startTimeout?: number;
}

/** A running `redis-server`; `await using` stops it. */
export interface RedisServer extends AsyncDisposable {
  /** The loopback port it listens on; the same after a restart. */
  readonly port: number;
  /** `redis://127.0.0.1:<port>`, or `rediss://` with `tls`. */
  readonly url: string;
  /** The process id of the current process; 0 when stopped. */
  readonly pid: number;
  /** Whether a process is running. */
  readonly running: boolean;
  /** What the server printed lately, for failure messages. */
  readonly log: string;
  /** Kills the process (SIGKILL, like a crash) and waits until it is gone. */
  stop(): Promise<void>;
  /** Starts it again on the same port, empty; waits until it answers. */
  start(): Promise<void>;
  /** `stop()` then `start()`. */
  restart(): Promise<void>;
}

const LOG_KEEP = 8 * 1024;

class RedisProcess implements RedisServer {
  port: number;
  readonly #options: RedisServerOptions;
  #child: Deno.ChildProcess | undefined;
  #exited: Promise<Deno.CommandStatus> | undefined;
  #reading: Promise<void> = Promise.resolve();
  #log = "";

  constructor(port: number, options: RedisServerOptions) {
    this.port = port;
    this.#options = options;
  }

  get url(): string {
    return `${this.#options.tls ? "rediss" : "redis"}://127.0.0.1:${this.port}`;
  }

  get pid(): number {
    return this.#child?.pid ?? 0;
  }

  get running(): boolean {
    return this.#child !== undefined;
  }

  get log(): string {
    return this.#log;
  }

  /** Spawns the process; resolves once it answers PING. */
  async start(): Promise<void> {
    if (this.#child !== undefined) return;
    const tls = this.#options.tls;
    const listen = tls === undefined ? ["--port", String(this.port)] : [
      "--port",
      "0",
      "--tls-port",
      String(this.port),
      "--tls-cert-file",
      tls.certFile,
      "--tls-key-file",
      tls.keyFile,
      "--tls-ca-cert-file",
      tls.certFile,
      "--tls-auth-clients",
      "no",
    ];
    let child: Deno.ChildProcess;
    try {
      child = new Deno.Command("redis-server", {
        args: [
          "--save",
          "",
          "--appendonly",
          "no",
          "--bind",
          "127.0.0.1",
          "--daemonize",
          "no",
          ...listen,
          ...(this.#options.args ?? []),
        ],
        stdin: "null",
        stdout: "piped",
        stderr: "piped",
      }).spawn();
    } catch (error) {
      if (error instanceof Deno.errors.NotFound) {
        throw new Error(
          "Cannot start redis-server: it is not installed (apt-get install redis-server)",
          { cause: error },
        );
      }
      throw error;
    }
    this.#child = child;
    this.#log = "";
    let gone = false;
    this.#exited = child.status.finally(() => gone = true);
    this.#reading = Promise.all([
      this.#keep(child.stdout),
      this.#keep(child.stderr),
    ]).then(() => {});
    const deadline = Date.now() + (this.#options.startTimeout ?? 10_000);
    while (!(await this.#answers())) {
      if (gone || Date.now() > deadline) {
        await this.stop();
        throw new Error(
          `redis-server on port ${this.port} ${
            gone ? "exited" : "did not answer PING in time"
          }: ${this.#log.slice(-2000)}`,
        );
      }
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
  }

  async #keep(stream: ReadableStream<Uint8Array>): Promise<void> {
    for await (const text of stream.pipeThrough(new TextDecoderStream())) {
      this.#log = (this.#log + text).slice(-LOG_KEEP);
    }
  }

  /** Whether the server answers PING (an auth error counts). */
  async #answers(): Promise<boolean> {
    let conn: Deno.Conn | undefined;
    try {
      const tcp = await Deno.connect({
        hostname: "127.0.0.1",
        port: this.port,
      });
      conn = tcp;
      const tls = this.#options.tls;
      if (tls !== undefined) {
        conn = await Deno.startTls(tcp, {
          hostname: "127.0.0.1",
          caCerts: [tls.cert],
        });
      }
      await conn.write(new TextEncoder().encode("*1\r\n$4\r\nPING\r\n"));
      const buffer = new Uint8Array(256);
      const n = await conn.read(buffer);
      return n !== null && n > 0 && (buffer[0] === 43 || buffer[0] === 45);
    } catch {
      return false;
    } finally {
      try {
        conn?.close();
      } catch {
        // Closed already.
      }
    }
  }

  async stop(): Promise<void> {
    const child = this.#child;
    if (child === undefined) return;
    try {
      child.kill("SIGKILL");
    } catch {
      // It exited on its own.
    }
    await this.#exited;
    await this.#reading;
    this.#child = undefined;
  }

  async restart(): Promise<void> {
    await this.stop();
    await this.start();
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.stop();
  }
}

/**
 * Starts `redis-server` on a free loopback port with `--save ""
 * --appendonly no`, and waits until it answers PING. A port taken between
 * choosing and binding is retried with another.
 *
 * @param options Extra arguments, TLS, start timeout.
 * @returns The running server.
 * @throws {Error} If redis-server is missing or does not start, with what
 * it printed.
 */
export async function startRedisServer(
  options: RedisServerOptions = {},
): Promise<RedisServer> {
  for (let attempt = 1;; attempt++) {
    const server = new RedisProcess(freePort(), options);
    try {
      await server.start();
      return server;
    } catch (error) {
      if (attempt >= 5 || !/already in use/i.test(server.log)) throw error;
    }
  }
}
