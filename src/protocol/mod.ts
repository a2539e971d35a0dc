/**
 * The MQTT protocol of one connection: CONNECT and its checks, the PUBLISH
 * flows at QoS 0, 1 and 2 with topic aliases both ways, SUBSCRIBE and
 * UNSUBSCRIBE with their hooks, keep-alive, and the end of a connection.
 * A {@linkcode Connection} reads and writes through a channel (framing,
 * batching, output limits) over a transport, and implements the core's
 * client link. The {@linkcode ConnectionHub} holds what every connection
 * of a server shares: the open connections and their timeouts, when
 * batched output is written, one PUBLISH encoded for many subscribers.
 *
 * It imports the core, the transports, the hooks and the logger; never the
 * server, the API or the config.
 *
 * @example What a connection takes from a PUBLISH
 * ```ts
 * import { checkPublished } from "./mod.ts";
 *
 * // Throws a TypeError or RangeError naming the field that is wrong.
 * checkPublished({
 *   topic: "a/b",
 *   payload: new Uint8Array(3),
 *   qos: 1,
 *   properties: undefined,
 *   messageExpiryInterval: undefined,
 * }, 1024);
 * ```
 *
 * @module
 */

export { Connection, type ConnectionStats } from "./connection.ts";
export { ConnectionHub, type HubConnection, packetIdOffset } from "./hub.ts";
export { Channel, type ChannelContext, type PacketHandler } from "./channel.ts";
export type { ProtocolOptions } from "./options.ts";
export {
  checkPublished,
  type PublishedMessage,
  publishErrorField,
  type PublishInputError,
} from "./publish_check.ts";
