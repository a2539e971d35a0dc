/**
 * One socket to Redis: commands of one event-loop turn leave in one write,
 * replies are matched to commands in order, and one timer watches the
 * oldest command. Any failure (lost socket, malformed reply, timeout) ends
 * the connection and rejects every command in flight; the owner makes a
 * new one.
 *
 * @module
 */

import { commandName, CommandWriter } from "./_command.ts";
import { ReplyKind, RespDecoder } from "./_resp.ts";
import {
  type RedisArgument,
  RedisConnectionError,
  RedisError,
  RedisProtocolError,
  type RedisReply,
  RedisTimeoutError,
} from "./types.ts";

/** A command waiting for its reply. */
export interface Pending {
  readonly resolve: (reply: RedisReply) => void;
  readonly reject: (error: Error) => void;
  /** The command's first argument, for messages. */
  readonly name: RedisArgument | undefined;
  /** Whether an error reply resolves (pipelines) rather than rejects. */
  readonly errorsAsValues: boolean;
  /** Replies that answer it: one, or one per channel of a SUBSCRIBE. */
  readonly expect: number;
  /** Milliseconds it may wait once sent; 0 for no limit. */
  readonly timeout: number;
  /** When it was handed to the socket, or queued while offline. */
  sentAt: number;
  /** The replies gathered so far, when `expect` > 1. */
  replies?: RedisReply[];
}

/** How a connection reports to its owner. */
export interface ConnectionEvents {
  /** A pub/sub message: `message` or `pmessage`, as an array. */
  onMessage(message: RedisReply[]): void;
  /** Ends once, with why; not called after `close()`. */
  onEnd(connection: RespConnection, error: Error): void;
}

const READ_SIZE = 16 * 1024;

/** An array used as a queue: `shift` is O(1). */
class Queue<T> {
  #items: (T | undefined)[] = [];
  #head = 0;

  get length(): number {
    return this.#items.length - this.#head;
  }

  push(item: T): void {
    this.#items.push(item);
  }

  peek(): T | undefined {
    return this.#items[this.#head];
  }

  shift(): T | undefined {
    const item = this.#items[this.#head];
    if (item === undefined) return undefined;
    this.#items[this.#head++] = undefined;
    if (this.#head === this.#items.length) {
      this.#items.length = 0;
      this.#head = 0;
    } else if (this.#head >= 1024 && this.#head * 2 >= this.#items.length) {
      this.#items.splice(0, this.#head);
      this.#head = 0;
    }
    return item;
  }

  /** Removes and returns every item. */
  drain(): T[] {
    const items = this.#items.slice(this.#head) as T[];
    this.#items = [];
    this.#head = 0;
    return items;
  }
}

/** Whether `bytes` spell the ASCII word `word`. */
function isWord(bytes: RedisReply | undefined, word: string): boolean {
  if (!(bytes instanceof Uint8Array) || bytes.length !== word.length) {
    return false;
  }
  for (let i = 0; i < word.length; i++) {
    if (bytes[i] !== word.charCodeAt(i)) return false;
  }
  return true;
}

/** Whether a reply is a pub/sub message rather than a command's answer. */
function isMessage(reply: RedisReply[]): boolean {
  const kind = reply[0];
  return isWord(kind, "message") || isWord(kind, "pmessage") ||
    isWord(kind, "smessage");
}

/** A socket speaking RESP. */
export class RespConnection {
  /** `host:port`, for messages. */
  readonly address: string;
  /** Ends when the socket is closed and the read loop has stopped. */
  readonly done: Promise<void>;
  readonly #conn: Deno.Conn;
  readonly #events: ConnectionEvents;
  /** Whether RESP2 arrays may be pub/sub messages (a subscriber). */
  readonly #pubsub: boolean;
  readonly #decoder = new RespDecoder();
  readonly #queue = new Queue<Pending>();
  #out = new CommandWriter();
  #spare = new CommandWriter();
  #flushQueued = false;
  #writing = false;
  /** Bytes of the write in progress not yet taken by the socket. */
  #writingBytes = 0;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #ended: Error | undefined;

  /**
   * Starts reading at once.
   *
   * @param conn The socket, TLS handshake done.
   * @param address `host:port`, for messages.
   * @param events Where messages and the end go.
   * @param pubsub Whether this connection subscribes.
   */
  constructor(
    conn: Deno.Conn,
    address: string,
    events: ConnectionEvents,
    pubsub: boolean,
  ) {
    this.#conn = conn;
    this.address = address;
    this.#events = events;
    this.#pubsub = pubsub;
    this.done = this.#read();
  }

  /** Whether the connection has ended. */
  get ended(): boolean {
    return this.#ended !== undefined;
  }

  /** Commands sent and not answered yet. */
  get inFlight(): number {
    return this.#queue.length;
  }

  /** Bytes of commands not yet taken by the socket. */
  get unwritten(): number {
    return this.#out.length + this.#writingBytes;
  }

  /**
   * Encodes a command for this turn's write and queues its reply.
   *
   * @param args The command.
   * @param pending Who waits for the reply.
   * @throws {TypeError} If an argument cannot be encoded (nothing is sent).
   */
  send(args: readonly RedisArgument[], pending: Pending): void {
    this.#out.write(args);
    this.#enqueue(pending);
  }

  /**
   * Queues bytes that are already RESP (commands encoded while offline)
   * and the replies they await, in order.
   */
  sendEncoded(bytes: Uint8Array, pending: readonly Pending[]): void {
    this.#out.append(bytes);
    const now = Date.now();
    for (const p of pending) {
      p.sentAt = now;
      this.#enqueue(p);
    }
  }

  #enqueue(pending: Pending): void {
    this.#queue.push(pending);
    if (this.#timer === undefined && pending.timeout > 0) {
      this.#armTimer(pending.timeout);
    }
    if (!this.#flushQueued && !this.#writing) {
      this.#flushQueued = true;
      queueMicrotask(this.#flush);
    }
  }

  readonly #flush = (): void => {
    this.#flushQueued = false;
    if (this.#ended !== undefined) return;
    this.#writing = true;
    this.#write().then(
      () => this.#writing = false,
      (error) => {
        this.#writing = false;
        this.#end(
          new RedisConnectionError(
            `Cannot write to Redis at ${this.address}: ${messageOf(error)}`,
            { cause: error },
          ),
        );
      },
    );
  };

  async #write(): Promise<void> {
    while (this.#out.length > 0 && this.#ended === undefined) {
      const out = this.#out;
      this.#out = this.#spare;
      this.#spare = out;
      const bytes = out.bytes();
      let written = 0;
      this.#writingBytes = bytes.length;
      try {
        while (written < bytes.length) {
          written += await this.#conn.write(
            written === 0 ? bytes : bytes.subarray(written),
          );
          this.#writingBytes = bytes.length - written;
        }
      } finally {
        this.#writingBytes = 0;
      }
      out.reset();
    }
  }

  async #read(): Promise<void> {
    const decoder = this.#decoder;
    try {
      for (;;) {
        const n = await this.#conn.read(decoder.space(READ_SIZE));
        if (n === null) {
          throw new RedisConnectionError(
            `Redis at ${this.address} closed the connection`,
          );
        }
        decoder.commit(n);
        decoder.decode(this.#onReply);
      }
    } catch (error) {
      this.#end(
        error instanceof RedisConnectionError ||
          error instanceof RedisProtocolError
          ? error
          : new RedisConnectionError(
            `Lost the connection to Redis at ${this.address}: ${
              messageOf(error)
            }`,
            { cause: error },
          ),
      );
    }
  }

  readonly #onReply = (reply: RedisReply, kind: ReplyKind): void => {
    if (this.#ended !== undefined) return;
    if (Array.isArray(reply) && (kind === ReplyKind.Push || this.#pubsub)) {
      if (isMessage(reply)) {
        this.#events.onMessage(reply);
        return;
      }
      if (kind === ReplyKind.Push && !this.#pubsub) return; // Not ours.
    }
    const pending = this.#queue.peek();
    if (pending === undefined) {
      if (kind === ReplyKind.Push) return;
      throw new RedisProtocolError(
        "Cannot match a reply from Redis: no command is waiting for one",
      );
    }
    if (kind === ReplyKind.Error) {
      this.#queue.shift();
      const error = new RedisError(reply as string, commandName(pending.name));
      if (pending.errorsAsValues) pending.resolve(error);
      else pending.reject(error);
    } else if (pending.expect === 1) {
      this.#queue.shift();
      pending.resolve(reply);
    } else {
      const replies = pending.replies ??= [];
      replies.push(reply);
      if (replies.length < pending.expect) return;
      this.#queue.shift();
      pending.resolve(replies);
    }
    if (this.#queue.length > 0 && this.#timer === undefined) {
      const next = this.#queue.peek()!;
      if (next.timeout > 0) this.#armTimer(next.timeout);
    }
  };

  #armTimer(delay: number): void {
    this.#timer = setTimeout(this.#checkTimeout, delay);
  }

  /** Fires for the oldest command; re-arms for the one now oldest. */
  readonly #checkTimeout = (): void => {
    this.#timer = undefined;
    const oldest = this.#queue.peek();
    if (oldest === undefined || oldest.timeout === 0) return;
    const left = oldest.sentAt + oldest.timeout - Date.now();
    if (left > 0) {
      this.#armTimer(left);
      return;
    }
    const error = new RedisTimeoutError(
      `Redis at ${this.address} did not answer ${
        commandName(oldest.name)
      } within ${oldest.timeout} ms`,
    );
    this.#queue.shift();
    oldest.reject(error);
    this.#end(error);
  };

  /**
   * Ends the connection and rejects the commands in flight with `error`;
   * the owner's `onEnd` is not called.
   *
   * @param error Why, for the commands in flight.
   */
  close(error: RedisConnectionError): void {
    this.#finish(error);
  }

  #end(error: Error): void {
    if (this.#finish(error)) this.#events.onEnd(this, error);
  }

  /** Closes once; returns whether this call closed it. */
  #finish(error: Error): boolean {
    if (this.#ended !== undefined) return false;
    this.#ended = error;
    clearTimeout(this.#timer);
    this.#timer = undefined;
    try {
      this.#conn.close();
    } catch {
      // Closed already.
    }
    const pending = this.#queue.drain();
    if (pending.length > 0) {
      const reason = error instanceof RedisConnectionError
        ? error
        : new RedisConnectionError(
          `Lost the connection to Redis at ${this.address}: ${error.message}`,
          { cause: error },
        );
      for (const p of pending) p.reject(reason);
    }
    return true;
  }
}

/** The message of anything thrown. */
export function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
