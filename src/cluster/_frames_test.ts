import { deepStrictEqual, strictEqual } from "node:assert/strict";
import type { Message } from "../message.ts";
import { decodeMessage, propertiesText } from "../message_codec.ts";
import { BatchWriter, decodeBatch } from "./_frames.ts";
import { groupKey } from "./_interest.ts";

const plain: Message = {
  topic: "a/b",
  payload: new Uint8Array([1, 2, 3]),
  qos: 1,
  retain: false,
  createdAt: 1_700_000_000_000,
};
const full: Message = {
  topic: "capteurs/température",
  payload: new Uint8Array(10_000).fill(7),
  qos: 2,
  retain: true,
  properties: {
    correlationData: new Uint8Array([9, 8]),
    userProperties: [["k", "v"]],
  },
  expiresAt: 1_700_000_060_000,
  publisher: "pub-1",
  createdAt: 1_700_000_000_001,
};

Deno.test("BatchWriter writes messages that decodeBatch reads back with their groups, frame after frame", () => {
  const writer = new BatchWriter();
  const other = new BatchWriter();
  const group = groupKey("g", "a/+");
  for (let frame = 0; frame < 2; frame++) {
    const bytes = writer.add(plain, undefined, [group]);
    // Copied into another node's batch as it was written.
    other.addEncoded(bytes, undefined);
    writer.add(full, propertiesText(full), undefined);
    strictEqual(writer.count, 2);

    const entries = decodeBatch(writer.take());
    strictEqual(writer.count, 0);
    deepStrictEqual(
      entries.map(([m, groups]) => [decodeMessage(m), groups]),
      [[plain, [group]], [full, []]],
    );
  }
  deepStrictEqual(
    decodeBatch(other.take()).map(([m, groups]) => [decodeMessage(m), groups]),
    [[plain, []], [plain, []]],
  );
});
