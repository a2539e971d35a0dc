/**
 * Topic names and topic filters: validation, shared subscriptions and
 * matching.
 *
 * @module
 */

import { utf8Length } from "./_utf8.ts";

const PLUS = 0x2b;
const HASH = 0x23;
const SLASH = 0x2f;
const DOLLAR = 0x24;
const SHARE_PREFIX = "$share/";

/**
 * Tells whether `topic` is a valid topic name: at least one character
 * [MQTT-4.7.3-1], no wildcard [MQTT-4.7.1-1] [MQTT-3.3.2-2], no U+0000 or
 * lone surrogate [MQTT-4.7.3-2] [MQTT-1.5.3-1], at most 65,535 bytes of UTF-8
 * [MQTT-4.7.3-3].
 *
 * @example Check topic names
 * ```ts
 * import { isValidTopicName } from "@gmqtt/broker/packets";
 * import { strictEqual } from "node:assert/strict";
 *
 * strictEqual(isValidTopicName("sensors/kitchen/temperature"), true);
 * strictEqual(isValidTopicName("sensors/+/temperature"), false);
 * strictEqual(isValidTopicName(""), false);
 * ```
 * @param topic The topic name.
 * @returns Whether a PUBLISH may carry it.
 */
export function isValidTopicName(topic: string): boolean {
  if (topic.length === 0) return false;
  const length = utf8Length(topic);
  if (length < 0 || length > 0xffff) return false;
  return !topic.includes("+") && !topic.includes("#");
}

/** Checks the levels of a filter from index `start` to its end. */
function isValidFilterLevels(filter: string, start: number): boolean {
  const length = filter.length;
  if (start >= length) return false; // [MQTT-4.7.3-1]
  for (let i = start; i < length; i++) {
    const code = filter.charCodeAt(i);
    if (code === PLUS || code === HASH) {
      // A wildcard fills its whole level [MQTT-4.7.1-2] [MQTT-4.7.1-3].
      if (i > start && filter.charCodeAt(i - 1) !== SLASH) return false;
      const next = i + 1;
      if (next < length && filter.charCodeAt(next) !== SLASH) return false;
      // '#' is the last character [MQTT-4.7.1-2].
      if (code === HASH && next !== length) return false;
    }
  }
  return true;
}

/**
 * Tells whether `filter` is a valid topic filter: at least one character
 * [MQTT-4.7.3-1], `#` only as the whole last level [MQTT-4.7.1-2], `+` only
 * as a whole level [MQTT-4.7.1-3], no U+0000 or lone surrogate, at most
 * 65,535 bytes of UTF-8. A shared subscription `$share/{name}/{filter}` is
 * valid when the name is not empty, has no `+`, `#` or `/`
 * [MQTT-4.8.2-1] [MQTT-4.8.2-2], and the filter after it is valid. This
 * applies to every protocol version.
 *
 * @example Check topic filters
 * ```ts
 * import { isValidTopicFilter } from "@gmqtt/broker/packets";
 * import { strictEqual } from "node:assert/strict";
 *
 * strictEqual(isValidTopicFilter("sensors/+/temperature"), true);
 * strictEqual(isValidTopicFilter("sensors/#"), true);
 * strictEqual(isValidTopicFilter("sensors/#/temperature"), false);
 * strictEqual(isValidTopicFilter("sensors+"), false);
 * strictEqual(isValidTopicFilter("$share/group/sensors/#"), true);
 * strictEqual(isValidTopicFilter("$share//sensors/#"), false);
 * ```
 * @param filter The topic filter.
 * @returns Whether a SUBSCRIBE or UNSUBSCRIBE may carry it.
 */
export function isValidTopicFilter(filter: string): boolean {
  const length = utf8Length(filter);
  if (length <= 0 || length > 0xffff) return false;
  if (filter.startsWith(SHARE_PREFIX)) {
    const shared = parseSharedSubscription(filter);
    return shared !== undefined &&
      isValidFilterLevels(filter, filter.length - shared.topicFilter.length);
  }
  return isValidFilterLevels(filter, 0);
}

/** A shared subscription's parts, from {@linkcode parseSharedSubscription}. */
export interface SharedSubscription {
  /** The share name: not empty, no `+`, `#` or `/`. */
  shareName: string;
  /** The topic filter after the share name. */
  topicFilter: string;
}

/**
 * Splits a shared subscription `$share/{name}/{filter}` into its share name
 * and topic filter. It checks the share name [MQTT-4.8.2-1] [MQTT-4.8.2-2]
 * and that the filter is not empty, but not the filter's wildcards: use
 * {@linkcode isValidTopicFilter} for that.
 *
 * @example Split a shared subscription
 * ```ts
 * import { parseSharedSubscription } from "@gmqtt/broker/packets";
 * import { deepStrictEqual, strictEqual } from "node:assert/strict";
 *
 * deepStrictEqual(parseSharedSubscription("$share/workers/jobs/+"), {
 *   shareName: "workers",
 *   topicFilter: "jobs/+",
 * });
 * strictEqual(parseSharedSubscription("jobs/+"), undefined);
 * ```
 * @param filter A topic filter.
 * @returns Its parts, or `undefined` if it is not a well-formed shared
 * subscription.
 */
export function parseSharedSubscription(
  filter: string,
): SharedSubscription | undefined {
  if (!filter.startsWith(SHARE_PREFIX)) return undefined;
  const slash = filter.indexOf("/", SHARE_PREFIX.length);
  if (slash <= SHARE_PREFIX.length || slash === filter.length - 1) {
    return undefined;
  }
  const shareName = filter.slice(SHARE_PREFIX.length, slash);
  if (shareName.includes("+") || shareName.includes("#")) return undefined;
  return { shareName, topicFilter: filter.slice(slash + 1) };
}

/**
 * Tells whether a topic filter matches a topic name. `+` matches one level,
 * `#` any number of levels including none (`a/#` matches `a`), and a filter
 * starting with a wildcard does not match a topic starting with `$`
 * [MQTT-4.7.2-1]. A shared subscription matches as its topic filter. Both
 * arguments are assumed valid.
 *
 * @example Match topics
 * ```ts
 * import { topicMatches } from "@gmqtt/broker/packets";
 * import { strictEqual } from "node:assert/strict";
 *
 * strictEqual(topicMatches("sensors/+/temperature", "sensors/kitchen/temperature"), true);
 * strictEqual(topicMatches("sensors/#", "sensors"), true);
 * strictEqual(topicMatches("#", "$SYS/uptime"), false);
 * strictEqual(topicMatches("$share/g/sensors/+", "sensors/hall"), true);
 * ```
 * @param filter A valid topic filter.
 * @param topic A valid topic name.
 * @returns Whether a message on `topic` is delivered to `filter`.
 */
export function topicMatches(filter: string, topic: string): boolean {
  let f = 0;
  if (filter.startsWith(SHARE_PREFIX)) {
    const shared = parseSharedSubscription(filter);
    if (shared !== undefined) f = filter.length - shared.topicFilter.length;
  }
  const filterLength = filter.length;
  const topicLength = topic.length;
  const first = filter.charCodeAt(f);
  if (topic.charCodeAt(0) === DOLLAR && (first === PLUS || first === HASH)) {
    return false; // [MQTT-4.7.2-1]
  }
  let t = 0;
  for (;;) {
    let filterEnd = filter.indexOf("/", f);
    if (filterEnd < 0) filterEnd = filterLength;
    const code = filter.charCodeAt(f);
    const single = filterEnd - f === 1;
    if (single && code === HASH) return true;
    let topicEnd = topic.indexOf("/", t);
    if (topicEnd < 0) topicEnd = topicLength;
    if (!(single && code === PLUS)) {
      const levelLength = filterEnd - f;
      if (levelLength !== topicEnd - t) return false;
      for (let i = 0; i < levelLength; i++) {
        if (filter.charCodeAt(f + i) !== topic.charCodeAt(t + i)) return false;
      }
    }
    if (filterEnd === filterLength) return topicEnd === topicLength;
    if (topicEnd === topicLength) {
      // The topic has no more levels: only a last "/#" still matches.
      return filterEnd + 2 === filterLength &&
        filter.charCodeAt(filterEnd + 1) === HASH;
    }
    f = filterEnd + 1;
    t = topicEnd + 1;
  }
}
