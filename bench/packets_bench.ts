/**
 * Micro-benchmarks of the packet codec: `deno bench bench/packets_bench.ts`.
 *
 * @module
 */

import {
  decodePacket,
  encodePacket,
  type Packet,
  PacketDecoder,
  type ProtocolVersion,
} from "../packets/mod.ts";
import {
  concat,
  connect,
  publish,
  subscribe,
} from "../packets/testdata/packets.ts";

/** The packets compared, by name, with the version they are coded at. */
const CASES: [string, Packet, ProtocolVersion, boolean][] = [
  ...[16, 1024, 65536].map((
    size,
  ): [string, Packet, ProtocolVersion, boolean] => [
    `PUBLISH QoS 1 with ${size} B payload`,
    publish({
      topic: "sensors/kitchen/temperature",
      qos: 1,
      packetId: 42,
      payload: new Uint8Array(size).fill(0x61),
    }),
    4,
    size === 16,
  ]),
  [
    "PUBLISH 5.0 QoS 1 with 16 B payload and 3 properties",
    publish({
      topic: "sensors/kitchen/temperature",
      qos: 1,
      packetId: 42,
      payload: new Uint8Array(16).fill(0x61),
      properties: {
        contentType: "text/plain",
        messageExpiryInterval: 60,
        userProperties: [["unit", "°C"]],
      },
    }, 5),
    5,
    false,
  ],
  [
    "CONNECT 3.1.1 with will, user name and password",
    connect({
      clientId: "bench-client-0001",
      will: { topic: "clients/bench-client-0001/status", payload: "offline" },
      username: "user",
      password: "secret",
    }),
    4,
    false,
  ],
  [
    "SUBSCRIBE 3.1.1 with 3 filters",
    subscribe({
      subscriptions: [["sensors/+/temperature", 1], ["alerts/#", 2], [
        "clients/bench-client-0001/commands",
        1,
      ]],
    }),
    4,
    false,
  ],
];

for (const [name, packet, protocolVersion, baseline] of CASES) {
  const bytes = encodePacket(packet, protocolVersion);
  Deno.bench({
    name,
    group: "decodePacket()",
    baseline,
    fn: () => void decodePacket(bytes, protocolVersion),
  });
  Deno.bench({
    name,
    group: "encodePacket()",
    baseline,
    fn: () => void encodePacket(packet, protocolVersion),
  });
}

/** Packets in the stream that `PacketDecoder.push()` decodes per iteration. */
const STREAM_PACKETS = 1000;

for (const protocolVersion of [4, 5] as const) {
  const stream = concat(
    ...Array.from({ length: STREAM_PACKETS }, (_, i) =>
      encodePacket(
        publish({
          topic: `sensors/${i % 10}/temperature`,
          qos: 1,
          packetId: 1 + i,
          payload: new Uint8Array(16),
        }, protocolVersion),
        protocolVersion,
      )),
  );
  const decoder = new PacketDecoder({ protocolVersion });
  Deno.bench({
    name: `${STREAM_PACKETS} small PUBLISH (${stream.length} B) at level ` +
      protocolVersion,
    group: "PacketDecoder.push() of one buffer",
    baseline: protocolVersion === 4,
    fn: () => void decoder.push(stream),
  });

  // The same stream in 1460-byte chunks (one TCP segment each).
  const chunks: Uint8Array[] = [];
  for (let i = 0; i < stream.length; i += 1460) {
    chunks.push(stream.subarray(i, i + 1460));
  }
  const chunked = new PacketDecoder({ protocolVersion });
  Deno.bench({
    name: `${STREAM_PACKETS} small PUBLISH in ${chunks.length} chunks of ` +
      `1460 B at level ${protocolVersion}`,
    group: "PacketDecoder.push() of one buffer",
    fn: () => {
      for (const chunk of chunks) chunked.push(chunk);
    },
  });
}
