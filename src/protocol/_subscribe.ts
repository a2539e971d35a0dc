/**
 * SUBSCRIBE and UNSUBSCRIBE from a client: the subscription ACL hooks, the
 * feature switches, the SUBACK and UNSUBACK, and the retained messages a new
 * subscription gets.
 *
 * @module
 */

import { MqttError, ProtocolError } from "../../packets/errors.ts";
import { ReasonCode, reasonCodeName } from "../../packets/reason_code.ts";
import type {
  Packet,
  ProtocolVersion,
  QoS,
  SubscribePacket,
  UnsubscribePacket,
} from "../../packets/types.ts";
import type { ConnectionHub } from "./hub.ts";
import type { ClientInfo } from "../types.ts";
import type { Session } from "../core/session.ts";
import { filterLevels } from "../core/topic_levels.ts";

/** What the handlers need of the client's connection. */
export interface SubscribingConnection {
  readonly client: ClientInfo | undefined;
  readonly session: Session | undefined;
  readonly isClosed: boolean;
  readonly protocolVersion: ProtocolVersion;
  send(packet: Packet): void;
}

/**
 * Handles a SUBSCRIBE: asks the subscribe hooks for each filter, answers
 * SUBACK, then sends the retained messages of the new subscriptions (the
 * returned promise, which pauses reading from this client, settles once
 * they are sent). A filter listed more than once counts once: its last
 * occurrence's options win, and every position gets that occurrence's code.
 *
 * @throws {MqttError} 0x97 for more than `maxFiltersPerSubscribe` filters.
 */
export async function handleSubscribe(
  hub: ConnectionHub,
  connection: SubscribingConnection,
  packet: SubscribePacket,
): Promise<void> {
  const client = connection.client!;
  const session = connection.session!;
  const v5 = connection.protocolVersion === 5;
  const codes: number[] = [];
  const made: { index: number; isNew: boolean }[] = [];
  const subscriptionId = packet.properties?.subscriptionIdentifiers?.[0];
  const options = hub.options;
  if (
    subscriptionId !== undefined && !options.subscriptionIdentifiersAvailable
  ) {
    // The CONNACK said they are not available: a protocol breach (0xA1).
    throw new MqttError(
      ReasonCode.SubscriptionIdentifiersNotSupported,
      "Cannot subscribe with a Subscription Identifier: they are not available",
    );
  }
  const subscriptions = packet.subscriptions;
  checkFilterCount("SUBSCRIBE", subscriptions.length, options);
  // Where each filter occurs last: earlier occurrences take its code.
  const last = new Map<string, number>();
  for (let i = 0; i < subscriptions.length; i++) {
    const sub = subscriptions[i]!;
    if (sub.noLocal && sub.topicFilter.startsWith("$share/")) {
      // [MQTT-3.8.3-4]
      throw new ProtocolError(
        "Cannot subscribe with No Local to a shared subscription",
      );
    }
    last.set(sub.topicFilter, i);
  }
  /** Refuses a filter: logged with the real reason, sent as allowed. */
  const refuse = (topicFilter: string, code: number): void => {
    hub.logger.info("subscribe refused", {
      client_id: client.clientId,
      topic_filter: topicFilter,
      reason_code: reasonCodeName(code),
    });
    codes.push(v5 ? code : ReasonCode.UnspecifiedError);
  };
  for (let i = 0; i < subscriptions.length; i++) {
    const sub = subscriptions[i]!;
    if (last.get(sub.topicFilter) !== i) {
      codes.push(-1); // Filled in below from the last occurrence.
      continue;
    }
    const shared = sub.topicFilter.startsWith("$share/");
    if (filterLevels(sub.topicFilter) > options.maxTopicLevels) {
      refuse(sub.topicFilter, ReasonCode.TopicFilterInvalid);
      continue;
    }
    if (
      session.subscriptionCount >= options.maxSubscriptionsPerClient &&
      !session.subscriptions.has(sub.topicFilter)
    ) {
      // Replacing a subscription is allowed; one more is not.
      refuse(sub.topicFilter, ReasonCode.QuotaExceeded);
      continue;
    }
    const unavailable = shared && !options.sharedSubscriptionAvailable
      ? ReasonCode.SharedSubscriptionsNotSupported
      : !options.wildcardSubscriptionAvailable &&
          /[+#]/.test(sub.topicFilter)
      ? ReasonCode.WildcardSubscriptionsNotSupported
      : undefined;
    if (unavailable !== undefined) {
      refuse(sub.topicFilter, unavailable);
      continue;
    }
    let decision = hub.hooks.checkSubscribe(client, sub);
    if (decision instanceof Promise) decision = await decision;
    if (connection.isClosed) return;
    const verdict = decision.code;
    if (verdict !== undefined && verdict >= 0x80) {
      refuse(sub.topicFilter, verdict);
      continue;
    }
    const granted = Math.min(
      sub.qos,
      verdict ?? 2,
      hub.options.maxQoS,
    ) as QoS;
    const isNew = hub.core.subscriptions.subscribe(session, {
      ...sub,
      qos: granted,
      ...(subscriptionId !== undefined ? { subscriptionId } : {}),
      // Marked: each message bound to it is checked (Hooks.checkDeliver).
      ...(decision.checkDeliver ? { checkDeliver: true } : {}),
    });
    codes.push(granted);
    made.push({ index: i, isNew });
  }
  for (let i = 0; i < codes.length; i++) {
    if (codes[i] === -1) {
      codes[i] = codes[last.get(subscriptions[i]!.topicFilter)!]!;
    }
  }
  // The subscriptions are durable before the client hears of them (at
  // once with a store in memory).
  const flushed = hub.core.flush();
  if (flushed !== undefined) await flushed;
  if (connection.isClosed) return;
  // [MQTT-3.8.4-1] [MQTT-3.8.4-5] One code per filter, in order.
  connection.send({
    type: "suback",
    packetId: packet.packetId,
    reasonCodes: codes,
  });
  for (const { index, isNew } of made) {
    const sub = packet.subscriptions[index]!;
    hub.hooks.notify("onSubscribed", client, sub, codes[index] as QoS);
    // [MQTT-3.3.1-6] Retained messages go to a new subscription;
    // 5.0 retain handling 1 only when new, 2 never.
    const handling = sub.retainHandling ?? 0;
    if (handling === 2 || (handling === 1 && !isNew)) continue;
    if (connection.isClosed) return;
    await hub.sendRetained(
      session,
      sub.topicFilter,
      codes[index] as QoS,
      subscriptionId,
    );
  }
}

/** Refuses a SUBSCRIBE or UNSUBSCRIBE listing too many filters. */
function checkFilterCount(
  name: string,
  count: number,
  options: { readonly maxFiltersPerSubscribe: number },
): void {
  if (count > options.maxFiltersPerSubscribe) {
    // A protocol breach: 5.0 is told 0x97 in DISCONNECT, 3.1.1 is closed.
    throw new MqttError(
      ReasonCode.QuotaExceeded,
      `Cannot accept ${name} with ${count} topic filters: the maximum is ${options.maxFiltersPerSubscribe}`,
    );
  }
}

/**
 * Handles an UNSUBSCRIBE: asks the unsubscribe hooks for each filter and
 * answers UNSUBACK.
 *
 * @throws {MqttError} 0x97 for more than `maxFiltersPerSubscribe` filters.
 */
export async function handleUnsubscribe(
  hub: ConnectionHub,
  connection: SubscribingConnection,
  packet: UnsubscribePacket,
): Promise<void> {
  const client = connection.client!;
  const session = connection.session!;
  const codes: number[] = [];
  checkFilterCount(
    "UNSUBSCRIBE",
    packet.topicFilters.length,
    hub.options,
  );
  for (const filter of packet.topicFilters) {
    let verdict = hub.hooks.checkUnsubscribe(client, filter);
    if (verdict instanceof Promise) verdict = await verdict;
    if (connection.isClosed) return;
    if (verdict !== undefined) {
      codes.push(verdict);
      continue;
    }
    const existed = hub.core.subscriptions.unsubscribe(session, filter);
    codes.push(existed ? 0 : ReasonCode.NoSubscriptionExisted);
    if (existed) hub.hooks.notify("onUnsubscribed", client, filter);
  }
  // [MQTT-3.10.4-4] UNSUBACK even when nothing matched.
  connection.send({
    type: "unsuback",
    packetId: packet.packetId,
    ...(connection.protocolVersion === 5 ? { reasonCodes: codes } : {}),
  });
}
