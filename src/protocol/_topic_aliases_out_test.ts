import { deepStrictEqual, strictEqual } from "node:assert/strict";
import { OutboundTopicAliases } from "./_topic_aliases_out.ts";

/** Sends a topic as a connection does: the alias and whether it is new. */
function send(
  aliases: OutboundTopicAliases,
  topic: string,
): [number | undefined, "known" | "new" | "none"] {
  const known = aliases.known(topic);
  if (known !== undefined) return [known, "known"];
  const alias = aliases.candidate(topic);
  if (alias === undefined) return [undefined, "none"];
  aliases.assign(topic, alias);
  return [alias, "new"];
}

Deno.test("OutboundTopicAliases gives aliases from 1 and reuses them", () => {
  const aliases = new OutboundTopicAliases(3);
  deepStrictEqual(send(aliases, "a/one"), [1, "new"]);
  deepStrictEqual(send(aliases, "a/two"), [2, "new"]);
  deepStrictEqual(send(aliases, "a/one"), [1, "known"]);
  deepStrictEqual(send(aliases, "a/two"), [2, "known"]);
  strictEqual(aliases.size, 2);
});

Deno.test("OutboundTopicAliases gives the alias of the topic sent least recently", () => {
  const aliases = new OutboundTopicAliases(2);
  deepStrictEqual(send(aliases, "t/aaa"), [1, "new"]);
  deepStrictEqual(send(aliases, "t/bbb"), [2, "new"]);
  deepStrictEqual(send(aliases, "t/aaa"), [1, "known"]);
  // t/bbb was sent least recently: its alias goes to t/ccc.
  deepStrictEqual(send(aliases, "t/ccc"), [2, "new"]);
  deepStrictEqual(send(aliases, "t/bbb"), [1, "new"]);
  deepStrictEqual(send(aliases, "t/ccc"), [2, "known"]);
  deepStrictEqual(send(aliases, "t/aaa"), [1, "new"]);
  strictEqual(aliases.size, 2);
});

Deno.test("OutboundTopicAliases changes nothing until assign() is called", () => {
  const aliases = new OutboundTopicAliases(1);
  strictEqual(aliases.candidate("t/aaa"), 1);
  strictEqual(aliases.known("t/aaa"), undefined);
  aliases.assign("t/aaa", 1);
  strictEqual(aliases.candidate("t/bbb"), 1);
  strictEqual(aliases.known("t/aaa"), 1);
});

Deno.test("OutboundTopicAliases gives no alias to topics of under 3 characters", () => {
  const aliases = new OutboundTopicAliases(5);
  strictEqual(aliases.candidate("ab"), undefined);
  strictEqual(aliases.candidate("abc"), 1);
});
