/**
 * The shared vocabulary of the broker: who a connection or client is, and
 * why a session ended or a message was dropped. Types only, imported by
 * every layer; it imports nothing but the codec's types.
 *
 * @module
 */

import type { ProtocolVersion } from "../packets/types.ts";

/** Where a network connection comes from, before it has said CONNECT. */
export interface ConnectionInfo {
  /** Remote address as `host:port` (IPv6 as `[::1]:port`), or "" if unknown. */
  readonly remoteAddress: string;
  /** Local address as `host:port`, or "" if unknown. */
  readonly localAddress: string;
  /** The transport: "tcp", "tls", "ws", "wss" or "stream". */
  readonly transport: TransportKind;
  /** Name of the listener that accepted it ("" for `Server.handle`). */
  readonly listener: string;
}

/** The transport a connection came in on. */
export type TransportKind = "tcp" | "tls" | "ws" | "wss" | "stream";

/** What the broker knows of a connected client; hooks get it read-only. */
export interface ClientInfo extends ConnectionInfo {
  /** Client identifier (the assigned one when the client sent none). */
  readonly clientId: string;
  /** User name from CONNECT, if any. */
  readonly username: string | undefined;
  /** Protocol level of the connection. */
  readonly protocolVersion: ProtocolVersion;
  /** Clean session (3.1.1) or clean start (5.0) flag. */
  readonly clean: boolean;
  /** Keep-alive in seconds in force for the connection; 0 for none. */
  readonly keepAlive: number;
}

/** Why a session ended. */
export type SessionTerminatedReason =
  | "normal"
  | "taken_over"
  | "expired"
  | "kicked";

/** Why a message was not delivered to a subscriber, or not routed at all. */
export type DropReason =
  | "expired"
  | "queue_full"
  | "output_full"
  | "not_authorized"
  | "hook"
  | "packet_too_large"
  | "session_ended"
  | "offline";
