/**
 * Fan-out of one PUBLISH to 1000 subscribers, in process.
 *
 * Every client is a pair of web streams handed to `server.handle()`. The
 * harness side is as cheap as it can be: the client-to-broker side is a
 * ReadableStream the bench enqueues raw packet bytes into, and the
 * broker-to-client side is a WritableStream whose sink only adds up byte
 * counts (and, at QoS 1, reads the 2-byte packet id to enqueue a PUBACK). So
 * the time is the broker's: reading and decoding the PUBLISH, matching the
 * topic, building 1000 deliveries, queuing them per connection, and one
 * batched write per connection.
 *
 * Loopback TCP would add 1000 `write` syscalls in the broker (which belong to
 * it) but also 1000 socket reads in the harness, in the same process and on
 * the same event loop: about half of the measured time would be the harness.
 * `cmd/bench.ts fanout` measures the TCP path end to end, with the load
 * generator in another process.
 *
 * @module
 */

import { encodePacket, type Packet, type QoS } from "../packets/mod.ts";
import { Server } from "../mod.ts";

const SUBSCRIBERS = 1000;
const PAYLOAD = new Uint8Array(64);

/** One in-memory client: what it sends, and a count of what it receives. */
interface Client {
  send(bytes: Uint8Array): void;
  received: number;
}

interface Fanout {
  server: Server;
  publisher: Client;
  /** Resolves when every subscriber has received `bytes` more bytes. */
  delivered(bytes: number): Promise<void>;
}

function connectBytes(clientId: string): Uint8Array {
  return encodePacket({
    type: "connect",
    protocolName: "MQTT",
    protocolVersion: 4,
    clean: true,
    keepAlive: 0,
    clientId,
  });
}

/**
 * Starts a server with `SUBSCRIBERS` clients subscribed to `filter` at
 * `qos`, and one publisher; resolves once every SUBACK is in.
 */
async function setUp(filter: string, qos: QoS): Promise<Fanout> {
  const server = new Server({ maxQueuedMessages: 10_000 });
  let total = 0;
  let target = Infinity;
  let wake: (() => void) | undefined;

  const open = (clientId: string, ackPublishes: boolean): Client => {
    let controller!: ReadableStreamDefaultController<Uint8Array>;
    const readable = new ReadableStream<Uint8Array>({
      start: (c) => void (controller = c),
    });
    const client: Client = {
      send: (bytes) => controller.enqueue(bytes),
      received: 0,
    };
    const writable = new WritableStream<Uint8Array>({
      write(chunk) {
        client.received += chunk.length;
        if (ackPublishes && (chunk[0]! & 0xf6) === 0x32) {
          // PUBLISH QoS 1, remaining length < 128: the packet id follows
          // the 2-byte fixed header and the topic.
          const at = 4 + ((chunk[2]! << 8) | chunk[3]!);
          client.send(Uint8Array.of(0x40, 0x02, chunk[at]!, chunk[at + 1]!));
        }
        total += chunk.length;
        if (total >= target) wake?.();
      },
    });
    void server.handle({ readable, writable });
    client.send(connectBytes(clientId));
    return client;
  };

  const subscribe = encodePacket({
    type: "subscribe",
    packetId: 1,
    subscriptions: [{ topicFilter: filter, qos }],
  });
  const subscribers: Client[] = [];
  for (let i = 0; i < SUBSCRIBERS; i++) {
    const client = open(`sub${i}`, qos > 0);
    client.send(subscribe);
    subscribers.push(client);
  }
  const publisher = open("pub", false);
  // CONNACK (4 bytes) and SUBACK (5 bytes) for each subscriber, CONNACK for
  // the publisher.
  const ready = SUBSCRIBERS * 9 + 4;
  const deadline = Date.now() + 10_000;
  while (total < ready) {
    if (Date.now() > deadline) {
      throw new Error(`Cannot set up fan-out: ${total} of ${ready} bytes`);
    }
    await new Promise((resolve) => setTimeout(resolve, 1));
  }
  return {
    server,
    publisher,
    delivered(bytes) {
      target = total + bytes * SUBSCRIBERS;
      if (total >= target) return Promise.resolve();
      return new Promise((resolve) => {
        wake = () => {
          wake = undefined;
          resolve();
        };
      });
    },
  };
}

const variants: {
  name: string;
  filter: string;
  topic: string;
  qos: QoS;
}[] = [
  { name: "QoS 0, exact filter", filter: "fan/t", topic: "fan/t", qos: 0 },
  { name: "QoS 0, filter fan/+", filter: "fan/+", topic: "fan/t", qos: 0 },
  { name: "QoS 1 with PUBACKs", filter: "fan/t", topic: "fan/t", qos: 1 },
];

for (const variant of variants) {
  const fanout = await setUp(variant.filter, variant.qos);
  let packetId = 0;
  const publish = (): Uint8Array => {
    packetId = packetId === 65535 ? 1 : packetId + 1;
    const packet: Packet = {
      type: "publish",
      topic: variant.topic,
      payload: PAYLOAD,
      qos: variant.qos,
      retain: false,
      dup: false,
      ...(variant.qos > 0 ? { packetId } : {}),
    };
    return encodePacket(packet);
  };
  // What each subscriber receives per PUBLISH: its own copy of the packet.
  const size = publish().length;
  Deno.bench({
    name: `to ${SUBSCRIBERS} subscribers, ${variant.name}`,
    group: "fan-out of one PUBLISH, in memory",
    baseline: variant === variants[0],
    async fn(b) {
      const bytes = publish();
      b.start();
      const delivered = fanout.delivered(size);
      fanout.publisher.send(bytes);
      await delivered;
      b.end();
    },
  });
}
