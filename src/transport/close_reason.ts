/**
 * Why a connection closed, as a small set of tokens for log lines, with a
 * human detail stripped of library internals.
 *
 * @module
 */

import { MqttError } from "../../packets/errors.ts";
import { ReasonCode } from "../../packets/reason_code.ts";

/** The reasons a "client disconnected" line gives. */
export type CloseReason =
  | "client_disconnect"
  | "server_stop"
  | "taken_over"
  | "kicked"
  | "keepalive_timeout"
  | "connect_timeout"
  | "connect_refused"
  | "protocol_error"
  | "tls_error"
  | "connection_lost"
  | "internal_error";

/**
 * The text of a library error without what means nothing to an operator:
 * documentation URLs (rustls puts one in its messages) and extra spaces.
 *
 * @param error What a socket, TLS or protocol call threw.
 * @returns A short, plain message.
 */
export function sanitizeError(error: unknown): string {
  const text = error instanceof Error ? error.message : String(error);
  return text.replace(/:?\s*\(?https?:\/\/\S+/g, "").replace(/\s+/g, " ")
    .trim();
}

/**
 * Classifies the end of a connection.
 *
 * @param error What ended it; `undefined` for a DISCONNECT or a server stop.
 * @param code The reason code of the DISCONNECT the server sent, if any.
 * @param end Set when the server ended the session on purpose.
 * @returns The reason token and, when there is more to say, a detail.
 */
export function closeReason(
  error: Error | undefined,
  code: number | undefined,
  end: "taken_over" | "kicked" | undefined,
): { reason: CloseReason; detail?: string } {
  if (end !== undefined) return { reason: end };
  if (code === ReasonCode.ServerShuttingDown) return { reason: "server_stop" };
  if (code === ReasonCode.KeepAliveTimeout) {
    return { reason: "keepalive_timeout" };
  }
  if (error === undefined) return { reason: "client_disconnect" };
  const detail = sanitizeError(error);
  if (error instanceof MqttError || error.name === "WebSocketError") {
    return { reason: "protocol_error", detail };
  }
  if (error.name === "TlsHandshakeError") {
    return { reason: "tls_error", detail };
  }
  if (/with its will/.test(detail)) {
    return { reason: "client_disconnect", detail };
  }
  if (/^Connection refused/.test(detail)) {
    return { reason: "connect_refused", detail };
  }
  if (/in time$/.test(detail)) return { reason: "connect_timeout", detail };
  if (
    error instanceof Deno.errors.ConnectionReset ||
    error instanceof Deno.errors.BrokenPipe ||
    error instanceof Deno.errors.UnexpectedEof ||
    error instanceof Deno.errors.ConnectionAborted ||
    error instanceof Deno.errors.NotConnected ||
    error instanceof Deno.errors.BadResource ||
    error instanceof Deno.errors.InvalidData ||
    /^(Connection lost|WebSocket is closed)/.test(detail)
  ) {
    return { reason: "connection_lost", detail };
  }
  return { reason: "internal_error", detail };
}
