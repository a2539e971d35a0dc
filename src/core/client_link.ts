/**
 * What the broker core needs of one client's network connection: who it is,
 * its session, whether it is open, how much output it holds, and closing
 * it. The protocol layer's `Connection` implements it; the core never
 * imports the protocol layer.
 *
 * @module
 */

import type { ClientInfo, ConnectionInfo } from "../types.ts";
import type { Session, SessionOutput } from "./session.ts";

/** One client's connection as the broker core sees it. */
export interface ClientLink extends SessionOutput {
  /** Set once CONNECT was accepted. */
  readonly client: ClientInfo | undefined;
  /** The session while the client is connected. */
  readonly session: Session | undefined;
  /**
   * Why a session that ends with this connection ends, when not the
   * client's doing; given to `close`.
   */
  readonly endReason: EndReason | undefined;
  /** Whether close has begun. */
  readonly isClosed: boolean;
  /** When the connection was accepted, in server milliseconds. */
  readonly openedAt: number;
  /** When anything was last read, in server milliseconds. */
  readonly lastActivity: number;
  /** Whether a CONNECT waits for its hooks. */
  readonly connectPending: boolean;
  /** Bytes written to the connection and not yet taken by the OS. */
  readonly outputBytes: number;
  /** Where it comes from. */
  readonly transport: { readonly info: ConnectionInfo };
  /** Lets go of memory kept for reuse while the connection is busy. */
  trim(): void;
  /** Resolves once the unsent output has drained to half its limit. */
  outputDrained(): Promise<void>;
  /** Closes the connection; resolves when closed, never rejects. */
  close(error: Error | undefined, options?: CloseOptions): Promise<void>;
}

/** Why the server ends a connection when it is not the client's doing. */
export type EndReason = "taken_over" | "kicked";

/** How the server closes a connection: the reason travels with the call. */
export interface CloseOptions {
  /** The reason code a 5.0 client is told in DISCONNECT; none by default. */
  reasonCode?: number;
  /** Why the session ends with it, when not the client's doing. */
  endReason?: EndReason;
}
