/**
 * The byte transport under one MQTT connection: TCP, TLS, WebSocket or a pair
 * of web streams. The connection reads into its own buffer and writes batches.
 *
 * @module
 */

import type { ConnectionInfo } from "../types.ts";

/** One network connection as the broker core sees it. */
export interface Transport {
  /** Where it comes from. */
  readonly info: ConnectionInfo;
  /**
   * When queued output is flushed: "microtask" batches everything a task
   * wrote (TCP, TLS, streams); "macrotask" batches across tasks (WebSocket,
   * whose every message is its own task).
   */
  readonly flush: "microtask" | "macrotask";
  /**
   * Whether the bytes given to `write` may be overwritten once it resolved:
   * true when the transport has copied or sent them by then (sockets), false
   * when a reader on the other side may still hold them (streams).
   */
  readonly reusesWrittenBytes: boolean;
  /** Reads into `buffer`; resolves the count of bytes read, or null at the end. */
  read(buffer: Uint8Array): Promise<number | null>;
  /** Writes bytes; resolves how many were written (possibly fewer). */
  write(bytes: Uint8Array): Promise<number>;
  /**
   * Ends the write side only (TCP FIN; TLS close_notify too) and leaves
   * reading open, so that the peer reads everything sent before it sees the
   * end. Absent where the transport cannot; `close()` then ends it as well
   * as it can (a WebSocket sends a close frame and waits for the peer's).
   */
  closeWrite?(): Promise<void>;
  /** Closes both directions; pending reads resolve null or reject. */
  close(): void;
}
