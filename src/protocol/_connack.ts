/**
 * The properties of a 5.0 CONNACK: what the server tells a client of its
 * limits and features.
 *
 * @module
 */

import type { ConnectPacket, Properties } from "../../packets/types.ts";
import type { ClientInfo } from "../types.ts";
import type { ProtocolOptions as ResolvedOptions } from "./options.ts";

/** What a 5.0 CONNACK tells the client of the server's limits. */
export function connackProperties(
  options: ResolvedOptions,
  packet: ConnectPacket,
  client: ClientInfo,
  sessionExpiry: number,
): Properties {
  const properties: Properties = {
    topicAliasMaximum: options.topicAliasMaximum,
    sharedSubscriptionAvailable: flag(options.sharedSubscriptionAvailable),
    subscriptionIdentifiersAvailable: flag(
      options.subscriptionIdentifiersAvailable,
    ),
    wildcardSubscriptionAvailable: flag(
      options.wildcardSubscriptionAvailable,
    ),
  };
  if (client.clientId !== packet.clientId) {
    properties.assignedClientIdentifier = client.clientId;
  }
  if (client.keepAlive !== packet.keepAlive) {
    properties.serverKeepAlive = client.keepAlive;
  }
  if (sessionExpiry !== (packet.properties?.sessionExpiryInterval ?? 0)) {
    properties.sessionExpiryInterval = sessionExpiry;
  }
  if (!options.retainAvailable) properties.retainAvailable = 0;
  // [MQTT-3.2.2-9]
  if (options.maxQoS < 2) properties.maximumQoS = options.maxQoS as 0 | 1;
  if (options.maxPacketSize < 268435460) {
    properties.maximumPacketSize = options.maxPacketSize;
  }
  if (options.receiveMaximum < 65535) {
    properties.receiveMaximum = options.receiveMaximum;
  }
  return properties;
}

/** A boolean as the 0 or 1 of a 5.0 property. */
function flag(value: boolean): 0 | 1 {
  return value ? 1 : 0;
}
