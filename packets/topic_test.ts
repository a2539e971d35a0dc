import { deepStrictEqual, strictEqual } from "node:assert/strict";
import {
  isValidTopicFilter,
  isValidTopicName,
  parseSharedSubscription,
  topicMatches,
} from "./topic.ts";

const VALID_NAMES = [
  "a",
  "a/b/c",
  "/",
  "/a",
  "a/",
  "a//b",
  "$SYS/uptime",
  " ",
  "€/日本",
  "\u{1f600}",
  "x".repeat(0xffff),
];
const INVALID_NAMES = [
  "",
  "a/+",
  "+",
  "a/#",
  "#",
  "a+b",
  "a#",
  "a\0b",
  "a\ud800",
  "\udc00a",
  "x".repeat(0x10000),
  "€".repeat(21846), // 65,538 bytes
];

Deno.test("isValidTopicName() accepts topic names", () => {
  for (const topic of VALID_NAMES) {
    strictEqual(isValidTopicName(topic), true, topic.slice(0, 20));
  }
});

Deno.test("isValidTopicName() refuses empty, wildcard, U+0000, surrogate and too long names", () => {
  for (const topic of INVALID_NAMES) {
    strictEqual(isValidTopicName(topic), false, topic.slice(0, 20));
  }
});

const VALID_FILTERS = [
  "a",
  "a/b",
  "#",
  "+",
  "+/+",
  "a/#",
  "a/+/b",
  "+/a/#",
  "/+",
  "a//#",
  "$SYS/#",
  "€/+",
  "$share/group/a/b",
  "$share/group/#",
  "$share/group/+/x",
  "$share/g/$SYS/#",
  "$share",
  "$sharex/a",
  "x".repeat(0xffff),
];
const INVALID_FILTERS = [
  "",
  "a/#/b",
  "#/a",
  "a#",
  "a/b#",
  "##",
  "a+",
  "+a",
  "a/+b",
  "a/b+/c",
  "++",
  "a\0",
  "\ud800",
  "x".repeat(0x10000),
  "$share/",
  "$share/group",
  "$share/group/",
  "$share//a",
  "$share/gr+up/a",
  "$share/gr#up/a",
  "$share/+/a",
  "$share/group/a/#/b",
  "$share/group/a+",
];

Deno.test("isValidTopicFilter() accepts topic filters and shared subscriptions", () => {
  for (const filter of VALID_FILTERS) {
    strictEqual(isValidTopicFilter(filter), true, filter.slice(0, 20));
  }
});

Deno.test("isValidTopicFilter() refuses misplaced wildcards and bad share names", () => {
  for (const filter of INVALID_FILTERS) {
    strictEqual(isValidTopicFilter(filter), false, filter.slice(0, 20));
  }
});

Deno.test("parseSharedSubscription() splits the share name from the filter", () => {
  deepStrictEqual(parseSharedSubscription("$share/g/a/+/c"), {
    shareName: "g",
    topicFilter: "a/+/c",
  });
  deepStrictEqual(parseSharedSubscription("$share/g//"), {
    shareName: "g",
    topicFilter: "/",
  });
  for (
    const filter of [
      "a/b",
      "$share",
      "$share/",
      "$share/g",
      "$share/g/",
      "$share//a",
      "$share/+/a",
      "$share/#/a",
      "$SHARE/g/a",
    ]
  ) {
    strictEqual(parseSharedSubscription(filter), undefined, filter);
  }
});

// [filter, topic, matches]
const MATCHES: [string, string, boolean][] = [
  ["a", "a", true],
  ["a", "b", false],
  ["a", "ab", false],
  ["ab", "a", false],
  ["a/b", "a/b", true],
  ["a/b", "a/b/c", false],
  ["a/b/c", "a/b", false],
  ["a/+", "a/b", true],
  ["a/+", "a/", true],
  ["a/+", "a", false],
  ["a/+", "a/b/c", false],
  ["+/b", "a/b", true],
  ["+/+", "/", true],
  ["+", "/", false],
  ["+", "a", true],
  ["/+", "/a", true],
  ["+/a", "/a", true],
  ["a/+/c", "a/b/c", true],
  ["a/+/c", "a//c", true],
  ["a/+/c", "a/b/d", false],
  ["#", "a", true],
  ["#", "a/b/c", true],
  ["#", "/", true],
  ["a/#", "a", true],
  ["a/#", "a/", true],
  ["a/#", "a/b/c", true],
  ["a/#", "ab", false],
  ["a/#", "b/a", false],
  ["a/b/#", "a", false],
  ["+/#", "a", true],
  ["+/+/#", "a", false],
  ["a//b", "a//b", true],
  ["a//b", "a/b", false],
  // [MQTT-4.7.2-1] A leading wildcard never matches a topic starting with $.
  ["#", "$SYS/uptime", false],
  ["+/uptime", "$SYS/uptime", false],
  ["$SYS/#", "$SYS/uptime", true],
  ["$SYS/+", "$SYS/uptime", true],
  ["a/#", "a/$b", true],
  ["+/$b", "a/$b", true],
  // A shared subscription matches as its topic filter.
  ["$share/g/a/+", "a/b", true],
  ["$share/g/#", "a/b", true],
  ["$share/g/#", "$SYS/x", false],
  ["$share/g/a", "$share/g/a", false],
  ["€/+", "€/日本", true],
  ["€/日", "€/日本", false],
];

Deno.test("topicMatches() applies '+', '#', the '$' rule and shared subscriptions", () => {
  for (const [filter, topic, expected] of MATCHES) {
    strictEqual(topicMatches(filter, topic), expected, `${filter} ~ ${topic}`);
  }
});
