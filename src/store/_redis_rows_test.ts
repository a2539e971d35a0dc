/**
 * The Redis store's binary values: every field back as it was, and bytes
 * of another format or cut short refused.
 *
 * @module
 */

import { deepStrictEqual, strictEqual, throws } from "node:assert/strict";
import type { Message } from "../message.ts";
import { MessageCodecError } from "../message_codec.ts";
import type { Delivery, SessionRecord } from "../core/ports.ts";
import {
  decodeDelivery,
  decodeRecord,
  encodeDelivery,
  encodeRecord,
  inflightScore,
  memberSeq,
  queueMember,
  readInflightScore,
} from "./_redis_rows.ts";

const FULL: Message = {
  topic: "a/ü/😀",
  payload: Uint8Array.from({ length: 256 }, (_, i) => i),
  qos: 2,
  retain: true,
  properties: {
    correlationData: Uint8Array.of(0, 255),
    userProperties: [["k", "v"]],
  },
  expiresAt: 9_000,
  publisher: "p",
  createdAt: 1_700_000_000_123,
};

Deno.test("encodeDelivery() and decodeDelivery() keep every field, present or left out", () => {
  const deliveries: Delivery[] = [
    {
      message: FULL,
      qos: 1,
      retain: true,
      subscriptionIds: [1, 268_435_455],
      expiresAt: 5_000,
    },
    {
      message: {
        topic: "t",
        payload: new Uint8Array(0),
        qos: 0,
        retain: false,
        createdAt: 0,
      },
      qos: 0,
      retain: false,
      subscriptionIds: [],
      expiresAt: 0,
    },
    {
      message: FULL,
      qos: 2,
      retain: false,
      subscriptionIds: undefined,
      expiresAt: undefined,
    },
  ];
  for (const d of deliveries) {
    deepStrictEqual(decodeDelivery(encodeDelivery(d)), d);
  }
});

Deno.test("decodeDelivery() refuses another format and bytes cut short", () => {
  const bytes = encodeDelivery({
    message: FULL,
    qos: 1,
    retain: false,
    subscriptionIds: [7],
    expiresAt: 1,
  });
  throws(
    () => decodeDelivery(Uint8Array.of(2, ...bytes.subarray(1))),
    MessageCodecError,
  );
  throws(() => decodeDelivery(bytes.subarray(0, 12)), MessageCodecError);
  throws(() => decodeDelivery(Uint8Array.of(1, 0x03)), MessageCodecError);
});

Deno.test("encodeRecord() and decodeRecord() keep a record with and without a will", () => {
  const records: SessionRecord[] = [
    {
      clientId: "c",
      username: "ü",
      expiryInterval: 0xffffffff,
      createdAt: 1,
      disconnectedAt: 2,
      will: {
        message: FULL,
        messageExpiryInterval: undefined,
        delayInterval: 30,
        dueAt: 40_000,
      },
    },
    {
      clientId: "d",
      username: undefined,
      expiryInterval: 0,
      createdAt: 1,
      disconnectedAt: undefined,
      will: undefined,
    },
  ];
  for (const r of records) {
    deepStrictEqual(decodeRecord(r.clientId, encodeRecord(r)), r);
  }
  throws(
    () => decodeRecord("c", Uint8Array.of(9, 0, 0, 0, 0)),
    MessageCodecError,
  );
});

Deno.test("queueMember() and inflightScore() keep the place, the size and the phase", () => {
  strictEqual(memberSeq(queueMember(123_456_789, 70)), 123_456_789);
  deepStrictEqual(readInflightScore(inflightScore(2 ** 40, 2)), {
    seq: 2 ** 40,
    phase: 2,
  });
  deepStrictEqual(readInflightScore(inflightScore(5, 1)), { seq: 5, phase: 1 });
  strictEqual(inflightScore(5, 2) < inflightScore(6, 1), true);
});
