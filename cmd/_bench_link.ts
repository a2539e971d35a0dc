/**
 * The byte connections of `cmd/bench.ts`: TCP, TLS or WebSocket behind one
 * small interface, with reads that start small (so that thousands of idle
 * connections stay cheap) and WebSocket writes that wait while too much is
 * buffered.
 *
 * @module
 */

/** Where and how to connect. */
export interface LinkOptions {
  /** "tcp", "tls" or "ws" (a `ws:` or `wss:` URL). */
  readonly transport: "tcp" | "tls" | "ws";
  readonly hostname: string;
  readonly port: number;
  /** WebSocket URL, for "ws". */
  readonly url?: string;
  /** PEM certificates to trust, for "tls". */
  readonly caCerts?: string[];
}

/** Output past which a writer waits for its writes to drain. */
export const HIGH_WATER = 64 * 1024;
const MIN_READ = 4096;
const MAX_READ = 65536;

/** A byte connection. */
export interface Link {
  /**
   * Runs `fn` in a later task, for links where every incoming message is a
   * task of its own (WebSocket); others batch per microtask.
   */
  later?(fn: () => void): void;
  write(bytes: Uint8Array): Promise<void>;
  start(
    onData: (bytes: Uint8Array) => void,
    onEnd: (e?: unknown) => void,
  ): void;
  close(): void;
}

class ConnLink implements Link {
  readonly #conn: Deno.Conn;
  #closed = false;

  constructor(conn: Deno.Conn) {
    this.#conn = conn;
  }

  async write(bytes: Uint8Array): Promise<void> {
    let offset = 0;
    while (offset < bytes.length) {
      offset += await this.#conn.write(bytes.subarray(offset));
    }
  }

  start(
    onData: (bytes: Uint8Array) => void,
    onEnd: (e?: unknown) => void,
  ): void {
    this.#read(onData).then(() => onEnd(), onEnd);
  }

  async #read(onData: (bytes: Uint8Array) => void): Promise<void> {
    // Starts small so that thousands of idle connections stay cheap, and
    // grows when a read fills it. Packets are handled before the next read,
    // so the buffer is reused.
    let buffer = new Uint8Array(MIN_READ);
    while (!this.#closed) {
      let n: number | null;
      try {
        n = await this.#conn.read(buffer);
      } catch (error) {
        if (this.#closed) return;
        throw error;
      }
      if (n === null) return;
      onData(buffer.subarray(0, n));
      if (n === buffer.length && buffer.length < MAX_READ) {
        buffer = new Uint8Array(buffer.length * 2);
      }
    }
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    try {
      this.#conn.close();
    } catch {
      // Already closed.
    }
  }
}

class WebSocketLink implements Link {
  readonly #ws: WebSocket;
  /**
   * A message port's task: a chained `setTimeout(0)` waits about 2 ms in
   * Deno, a posted message a few microseconds.
   */
  #tasks: MessageChannel | undefined;
  #queued: (() => void)[] = [];

  later(fn: () => void): void {
    if (this.#queued.push(fn) !== 1) return;
    if (this.#tasks === undefined) {
      this.#tasks = new MessageChannel();
      this.#tasks.port1.onmessage = () => {
        const queued = this.#queued;
        this.#queued = [];
        for (const f of queued) f();
      };
    }
    this.#tasks.port2.postMessage(null);
  }

  constructor(ws: WebSocket) {
    this.#ws = ws;
  }

  async write(bytes: Uint8Array): Promise<void> {
    this.#ws.send(bytes.slice());
    // WebSocket has no write back-pressure: wait while too much is buffered.
    for (let i = 0; i < 10_000 && this.#ws.bufferedAmount > HIGH_WATER; i++) {
      if (this.#ws.readyState !== WebSocket.OPEN) return;
      await new Promise((resolve) => setTimeout(resolve, 1));
    }
  }

  start(
    onData: (bytes: Uint8Array) => void,
    onEnd: (e?: unknown) => void,
  ): void {
    this.#ws.onmessage = (event: MessageEvent<ArrayBuffer>) => {
      try {
        onData(new Uint8Array(event.data));
      } catch (error) {
        onEnd(error);
      }
    };
    this.#ws.onclose = () => onEnd();
    this.#ws.onerror = (event) =>
      onEnd(new Error(`WebSocket error: ${(event as ErrorEvent).message}`));
  }

  close(): void {
    this.#ws.close();
    this.#tasks?.port1.close();
    this.#tasks?.port2.close();
    this.#tasks = undefined;
  }
}

/** Opens a connection to the broker. */
export async function openLink(options: LinkOptions): Promise<Link> {
  switch (options.transport) {
    case "tcp": {
      const conn = await Deno.connect({
        hostname: options.hostname,
        port: options.port,
      });
      conn.setNoDelay(true);
      return new ConnLink(conn);
    }
    case "tls": {
      const conn = await Deno.connectTls({
        hostname: options.hostname,
        port: options.port,
        ...(options.caCerts ? { caCerts: options.caCerts } : {}),
      });
      await conn.handshake();
      return new ConnLink(conn);
    }
    case "ws": {
      const ws = new WebSocket(options.url ?? "", "mqtt");
      ws.binaryType = "arraybuffer";
      await new Promise<void>((resolve, reject) => {
        ws.onopen = () => resolve();
        ws.onerror = (event) =>
          reject(
            new Error(
              `Cannot open WebSocket ${options.url}: ${
                (event as ErrorEvent).message
              }`,
            ),
          );
      });
      return new WebSocketLink(ws);
    }
  }
}
