/**
 * Transports: bytes in, bytes out. TCP and TLS on `Deno.listen` and
 * `Deno.listenTls`, WebSocket and secure WebSocket on our own HTTP/1.1
 * server and RFC 6455 framing, and any pair of web streams. One accept
 * loop serves every listener and survives running out of descriptors.
 * Each connection is a {@linkcode Transport}; nothing here knows MQTT
 * beyond the WebSocket subprotocol name.
 *
 * It imports only the logger and the shared vocabulary; the only folder of
 * `src/` that calls `Deno.listen` and friends.
 *
 * @example Serve a connection made of two web streams
 * ```ts
 * import { StreamTransport } from "./mod.ts";
 *
 * const { readable } = new TransformStream<Uint8Array, Uint8Array>();
 * const { writable } = new TransformStream<Uint8Array, Uint8Array>();
 * const transport = new StreamTransport({ readable, writable }, {
 *   remoteAddress: "",
 *   localAddress: "",
 *   transport: "stream",
 *   listener: "",
 * });
 * transport.close();
 * ```
 *
 * @module
 */

export type { Transport } from "./transport.ts";
export { type Duplex, StreamTransport } from "./stream.ts";
export { ConnTransport, SocketListener, TlsHandshakeError } from "./tcp.ts";
export { WebSocketListener, WebSocketTransport } from "./websocket.ts";
export {
  HTTP_LIMITS,
  type HttpHandler,
  type HttpLimits,
  type HttpRequestInfo,
  HttpServer,
  HttpUpgrade,
} from "./http1.ts";
export { type CloseReason, closeReason } from "./close_reason.ts";
