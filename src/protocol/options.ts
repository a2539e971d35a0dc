/**
 * The limits a connection reads, beside the core's, every default filled
 * in by the server (see `ServerOptions` for what each means).
 *
 * @module
 */

import type { QoS } from "../../packets/types.ts";
import type { CoreOptions } from "../core/options.ts";

/** What the protocol layer needs of the server's options. */
export interface ProtocolOptions extends CoreOptions {
  readonly maxPacketSize: number;
  readonly maxKeepAlive: number;
  readonly allowEmptyClientId: boolean;
  readonly maxQoS: QoS;
  readonly maxSessionExpiryInterval: number;
  readonly topicAliasMaximum: number;
  readonly topicAliasMaximumOut: number;
  readonly maxOutputBuffer: number;
  readonly connectTimeout: number;
  readonly receiveMaximum: number;
  readonly wildcardSubscriptionAvailable: boolean;
  readonly subscriptionIdentifiersAvailable: boolean;
  readonly sharedSubscriptionAvailable: boolean;
  readonly maxConnections: number;
  readonly maxSubscriptionsPerClient: number;
  readonly maxFiltersPerSubscribe: number;
  readonly maxTopicLevels: number;
}
