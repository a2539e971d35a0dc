import {
  encodePacket,
  PacketWriter,
  type PublishPacket,
} from "../packets/mod.ts";

/** Packets per batch, as a busy connection flushes them. */
const BATCH = 100;

const PACKETS: PublishPacket[] = [];
for (let i = 0; i < BATCH; i++) {
  PACKETS.push({
    type: "publish",
    topic: `sensors/room${i % 10}/temperature`,
    payload: new TextEncoder().encode(`{"celsius":${20 + i / 10}}`),
    qos: 1,
    packetId: i + 1,
    retain: false,
    dup: false,
  });
}
const PUBLISH_BYTES = encodePacket(PACKETS[0]!);
/** The packet id follows the 2-byte fixed header and the topic. */
const ID_OFFSET = 2 + 2 + PACKETS[0]!.topic.length;

Deno.bench({
  name: `encodePacket() ×${BATCH}, then copied into one batch`,
  group: `${BATCH} small PUBLISH into one write`,
  baseline: true,
  fn: () => {
    const parts: Uint8Array[] = [];
    let length = 0;
    for (const packet of PACKETS) {
      const bytes = encodePacket(packet);
      parts.push(bytes);
      length += bytes.length;
    }
    const batch = new Uint8Array(length);
    let offset = 0;
    for (const part of parts) {
      batch.set(part, offset);
      offset += part.length;
    }
    if (batch.length === 0) throw new Error("Cannot batch: nothing written");
  },
});

{
  const writer = new PacketWriter();
  Deno.bench({
    name: `PacketWriter.write() ×${BATCH}, then take()`,
    group: `${BATCH} small PUBLISH into one write`,
    fn: () => {
      for (const packet of PACKETS) writer.write(packet);
      if (writer.take().length === 0) {
        throw new Error("Cannot batch: nothing written");
      }
    },
  });
}

{
  const writer = new PacketWriter();
  Deno.bench({
    name: `PacketWriter.writeBytes() + setUint16() ×${BATCH}, then take()`,
    group: `${BATCH} small PUBLISH into one write`,
    fn: () => {
      for (let i = 1; i <= BATCH; i++) {
        writer.setUint16(writer.writeBytes(PUBLISH_BYTES) + ID_OFFSET, i);
      }
      if (writer.take().length === 0) {
        throw new Error("Cannot batch: nothing written");
      }
    },
  });
}
