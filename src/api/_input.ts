/**
 * Narrowing of the API's JSON bodies and query parameters into the server's
 * option types; each failure is a 400 naming the bad field.
 *
 * @module
 */

import { isValidTopicFilter, isValidTopicName } from "../../packets/topic.ts";
import type { QoS, Subscription } from "../../packets/types.ts";
import type { PublishOptions } from "../message.ts";
import {
  badField,
  booleanField,
  integerField,
  isMqttString,
  quote,
  requiredString,
  stringField,
} from "./_http.ts";

/** A required field holding a valid topic name (no wildcards). */
export function topicName(
  input: Record<string, unknown>,
  field: string,
  what: string,
): string {
  const topic = requiredString(input, field, what);
  if (!isValidTopicName(topic)) {
    throw badField(
      field,
      `Cannot ${what}: ${quote(topic)} is not a valid topic name`,
    );
  }
  return topic;
}

/** The optional `qos` field: 0, 1 or 2. */
export function qosField(
  input: Record<string, unknown>,
  what: string,
): QoS | undefined {
  return integerField(input, "qos", what, 0, 2) as QoS | undefined;
}

/** The subscriptions of a body: `topic` and options, or `subscriptions`. */
export function subscriptionsOf(
  input: Record<string, unknown>,
): Subscription[] {
  const what = "subscribe";
  const list = input.subscriptions;
  if (list !== undefined && !Array.isArray(list)) {
    throw badField(
      "subscriptions",
      "Cannot subscribe: subscriptions must be an array",
    );
  }
  const items: unknown[] = list ?? [input];
  if (items.length === 0) {
    throw badField("subscriptions", "Cannot subscribe: subscriptions is empty");
  }
  return items.map((item) => {
    if (typeof item !== "object" || item === null) {
      throw badField(
        "subscriptions",
        "Cannot subscribe: each subscription must be an object",
      );
    }
    const s = item as Record<string, unknown>;
    const topicFilter = requiredString(s, "topic", what);
    if (!isValidTopicFilter(topicFilter)) {
      throw badField(
        "topic",
        `Cannot subscribe: ${quote(topicFilter)} is not a valid topic filter`,
      );
    }
    const noLocal = booleanField(s, "noLocal", what);
    const retainAsPublished = booleanField(s, "retainAsPublished", what);
    const retainHandling = integerField(s, "retainHandling", what, 0, 2) as
      | 0
      | 1
      | 2
      | undefined;
    return {
      topicFilter,
      qos: qosField(s, what) ?? 0,
      ...(noLocal !== undefined ? { noLocal } : {}),
      ...(retainAsPublished !== undefined ? { retainAsPublished } : {}),
      ...(retainHandling !== undefined ? { retainHandling } : {}),
    };
  });
}

/** The topic filters of an UNSUBSCRIBE body: `topic` or `topics`. */
export function topicFiltersOf(input: Record<string, unknown>): string[] {
  const raw = input.topics ??
    (input.topic === undefined ? undefined : [input.topic]);
  if (raw === undefined) {
    throw badField("topic", "Cannot unsubscribe: topic is missing");
  }
  if (
    !Array.isArray(raw) || raw.length === 0 ||
    !raw.every((t): t is string => typeof t === "string")
  ) {
    throw badField(
      "topics",
      "Cannot unsubscribe: topics must be a non-empty array of strings",
    );
  }
  for (const t of raw) {
    if (!isValidTopicFilter(t)) {
      throw badField(
        "topic",
        `Cannot unsubscribe: ${quote(t)} is not a valid topic filter`,
      );
    }
  }
  return raw;
}

/** The message of a publish body; `payload` is UTF-8 text, or base64 with `encoding: "base64"`. */
export function publishOptions(input: Record<string, unknown>): PublishOptions {
  const what = "publish";
  const topic = topicName(input, "topic", what);
  // A payload is bytes, not an MQTT string: U+0000 is fine in it.
  const raw = input.payload ?? "";
  if (typeof raw !== "string") {
    throw badField("payload", "Cannot publish: payload must be a string");
  }
  const text = raw;
  const encoding = stringField(input, "encoding", what) ?? "utf8";
  let payload: Uint8Array | string;
  if (encoding === "utf8") {
    payload = text;
  } else if (encoding === "base64") {
    try {
      payload = Uint8Array.fromBase64(text);
    } catch {
      throw badField("payload", "Cannot publish: payload is not valid base64");
    }
  } else {
    throw badField(
      "encoding",
      'Cannot publish: encoding must be "utf8" or "base64"',
    );
  }
  const qos = qosField(input, what);
  const retain = booleanField(input, "retain", what);
  const expiry = integerField(
    input,
    "messageExpiryInterval",
    what,
    0,
    0xffffffff,
  );
  const contentType = stringField(input, "contentType", what);
  const responseTopic = stringField(input, "responseTopic", what);
  if (responseTopic !== undefined && !isValidTopicName(responseTopic)) {
    throw badField(
      "responseTopic",
      "Cannot publish: responseTopic is not a valid topic name",
    );
  }
  const userProperties = userPropertiesOf(input.userProperties);
  const properties = {
    ...(contentType !== undefined ? { contentType } : {}),
    ...(responseTopic !== undefined ? { responseTopic } : {}),
    ...(userProperties !== undefined ? { userProperties } : {}),
  };
  return {
    topic,
    payload,
    ...(qos !== undefined ? { qos } : {}),
    ...(retain !== undefined ? { retain } : {}),
    ...(expiry !== undefined ? { messageExpiryInterval: expiry } : {}),
    ...(Object.keys(properties).length > 0 ? { properties } : {}),
  };
}

/** User properties as `{name: value}` or `[[name, value], ...]`. */
export function userPropertiesOf(
  value: unknown,
): [string, string][] | undefined {
  if (value === undefined || value === null) return undefined;
  const fail = () =>
    badField(
      "userProperties",
      "Cannot publish: userProperties must be an object of strings, or an array of [name, value] pairs, without U+0000",
    );
  if (Array.isArray(value)) {
    return value.map((pair) => {
      if (
        !Array.isArray(pair) || pair.length !== 2 ||
        typeof pair[0] !== "string" || typeof pair[1] !== "string" ||
        !isMqttString(pair[0]) || !isMqttString(pair[1])
      ) throw fail();
      return [pair[0], pair[1]];
    });
  }
  if (typeof value !== "object") throw fail();
  return Object.entries(value).map(([name, v]) => {
    if (typeof v !== "string" || !isMqttString(name) || !isMqttString(v)) {
      throw fail();
    }
    return [name, v];
  });
}
