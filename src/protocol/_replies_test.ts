import { deepStrictEqual, ok, strictEqual } from "node:assert/strict";
import { encodedLength } from "../../packets/mod.ts";
import { cutUtf8, legalReply, MAX_REASON_STRING_BYTES } from "./_replies.ts";

const utf8 = new TextEncoder();

Deno.test("cutUtf8() keeps a short text and cuts a long one on a character boundary", () => {
  strictEqual(cutUtf8("short", 256), "short");
  const cut = cutUtf8("é".repeat(1000), 256);
  ok(utf8.encode(cut).length <= 256);
  ok(cut.endsWith("…"));
  ok(!cut.includes("\uFFFD"));
  const emoji = cutUtf8("😀".repeat(200), 256);
  ok(utf8.encode(emoji).length <= 256);
  ok(!emoji.includes("\uFFFD"));
});

Deno.test("legalReply() cuts a long reason string to 256 bytes", () => {
  const reply = legalReply({
    type: "disconnect",
    reasonCode: 0x82,
    properties: { reasonString: "x".repeat(70000) },
  }, Infinity);
  ok(reply.type === "disconnect");
  ok(
    utf8.encode(reply.properties!.reasonString!).length <=
      MAX_REASON_STRING_BYTES,
  );
});

Deno.test("legalReply() maps a reason code the packet does not allow", () => {
  deepStrictEqual(
    legalReply({ type: "disconnect", reasonCode: 0x84 }, Infinity),
    { type: "disconnect", reasonCode: 0x82 },
  );
  deepStrictEqual(
    legalReply(
      { type: "suback", packetId: 1, reasonCodes: [0, 0x99] },
      Infinity,
    ),
    { type: "suback", packetId: 1, reasonCodes: [0, 0x80] },
  );
});

Deno.test("legalReply() drops the reason string and user properties past the client's Maximum Packet Size [MQTT-3.14.2-3]", () => {
  const reply = legalReply({
    type: "disconnect",
    reasonCode: 0x82,
    properties: { reasonString: "Cannot do it", userProperties: [["a", "b"]] },
  }, 10);
  deepStrictEqual(reply, {
    type: "disconnect",
    reasonCode: 0x82,
    properties: {},
  });
  ok(encodedLength(reply, 5) <= 10);
});

Deno.test("legalReply() leaves a packet that fits as it is", () => {
  const packet = {
    type: "puback" as const,
    packetId: 3,
    reasonCode: 0x87,
    properties: { reasonString: "No" },
  };
  strictEqual(legalReply(packet, 1000), packet);
});
