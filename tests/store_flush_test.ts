/**
 * What a client is told waits for the store: a QoS 1 or 2 PUBLISH is
 * acknowledged, and a SUBSCRIBE answered, once `Store.flush()` has made
 * what they wrote durable; a store that cannot flush fails the connection
 * unacknowledged. Served over `server.handle()`, no sockets.
 *
 * @module
 */

import { deepStrictEqual, strictEqual } from "node:assert/strict";
import { MemoryStore, Server, type Store } from "../mod.ts";
import { connectStream } from "./_peer.ts";

/**
 * A memory store whose `flush` waits, once `hold()` was called, until the
 * test lets it go.
 */
class GatedStore extends MemoryStore implements Store {
  flushes = 0;
  #release: (() => void)[] = [];
  #fail: Error | undefined;
  #open = true;

  /** Makes every flush from now on wait for `release()`. */
  hold(): void {
    this.#open = false;
  }

  override flush(): Promise<void> {
    this.flushes++;
    if (this.#fail !== undefined) return Promise.reject(this.#fail);
    if (this.#open) return Promise.resolve();
    return new Promise((resolve) => this.#release.push(resolve));
  }

  /** Lets every pending flush resolve, and every later one at once. */
  release(): void {
    this.#open = true;
    const waiting = this.#release;
    this.#release = [];
    for (const resolve of waiting) resolve();
  }

  /** Makes every flush reject, until `release()`. */
  failWith(error: Error): void {
    this.#fail = error;
  }

  /** Lets flushes succeed again. */
  heal(): void {
    this.#fail = undefined;
    this.release();
  }
}

Deno.test("Server acknowledges a QoS 1 PUBLISH only once the store has flushed", async () => {
  const store = new GatedStore();
  const server = new Server({ store });
  const { peer } = connectStream(server);
  await peer.connect({ clientId: "pub" });
  store.hold();
  await peer.send({
    type: "publish",
    topic: "a/b",
    payload: new Uint8Array([1]),
    qos: 1,
    retain: true,
    dup: false,
    packetId: 7,
  });
  await peer.nothing(50);
  strictEqual(store.flushes, 1);
  store.release();
  deepStrictEqual(await peer.next(), { type: "puback", packetId: 7 });
  // The retained message is in the store the PUBACK waited for.
  strictEqual(store.load().retained[0]?.topic, "a/b");
  await peer.close();
  await server.stop();
});

Deno.test("Server sends PUBREC for a QoS 2 PUBLISH once its packet id is stored and flushed", async () => {
  const store = new GatedStore();
  const server = new Server({ store });
  const { peer } = connectStream(server);
  await peer.connect({
    clientId: "pub2",
    clean: false,
    protocolVersion: 5,
    properties: { sessionExpiryInterval: 60 },
  });
  store.hold();
  await peer.send({
    type: "publish",
    topic: "a/b",
    payload: new Uint8Array([2]),
    qos: 2,
    retain: false,
    dup: false,
    packetId: 9,
  });
  await peer.nothing(50);
  deepStrictEqual(store.load().sessions[0]?.incomingQoS2, [9]);
  store.release();
  const pubrec = await peer.next();
  strictEqual(pubrec.type, "pubrec");
  strictEqual("packetId" in pubrec && pubrec.packetId, 9);
  await peer.close();
  await server.stop();
});

Deno.test("Server answers SUBSCRIBE once the store has flushed the subscription", async () => {
  const store = new GatedStore();
  const server = new Server({ store });
  const { peer } = connectStream(server);
  await peer.connect({
    clientId: "sub",
    clean: false,
    protocolVersion: 5,
    properties: { sessionExpiryInterval: 60 },
  });
  store.hold();
  await peer.send({
    type: "subscribe",
    packetId: 3,
    subscriptions: [{ topicFilter: "x/#", qos: 1 }],
  });
  await peer.nothing(50);
  deepStrictEqual(
    store.load().sessions[0]?.subscriptions.map(([filter]) => filter),
    ["x/#"],
  );
  store.release();
  const suback = await peer.next();
  strictEqual(suback.type, "suback");
  await peer.close();
  await server.stop();
});

Deno.test("Server closes a connection unacknowledged when the store cannot flush", async () => {
  const store = new GatedStore();
  store.failWith(new Error("disk full"));
  const server = new Server({ store });
  const { peer } = connectStream(server);
  await peer.connect({ clientId: "pub" });
  await peer.send({
    type: "publish",
    topic: "a/b",
    payload: new Uint8Array([1]),
    qos: 1,
    retain: false,
    dup: false,
    packetId: 1,
  });
  await peer.closed();
  await peer.close();
  store.heal();
  await server.stop();
});

Deno.test("Server refuses a 5.0 client's QoS 1 PUBLISH with 0x80 when the store cannot flush, and keeps the connection", async () => {
  const store = new GatedStore();
  const server = new Server({ store });
  const { peer } = connectStream(server);
  await peer.connect({ clientId: "pub5", protocolVersion: 5 });
  store.failWith(new Error("disk full"));
  await peer.send({
    type: "publish",
    topic: "a/b",
    payload: new Uint8Array([1]),
    qos: 1,
    retain: true,
    dup: false,
    packetId: 4,
  });
  const puback = await peer.next();
  strictEqual(puback.type, "puback");
  strictEqual("reasonCode" in puback && puback.reasonCode, 0x80);
  // Still served once the store works again.
  store.heal();
  await peer.send({ type: "pingreq" });
  strictEqual((await peer.next()).type, "pingresp");
  await peer.close();
  await server.stop();
});

Deno.test("Server sends CONNACK for a persistent session once the store has flushed it, and refuses with Server unavailable when it cannot", async () => {
  const store = new GatedStore();
  const server = new Server({ store });
  store.hold();
  const first = connectStream(server).peer;
  await first.send({
    type: "connect",
    protocolName: "MQTT",
    protocolVersion: 4,
    clean: false,
    keepAlive: 0,
    clientId: "kept",
  });
  await first.nothing(50);
  // The session is written; CONNACK waits for it to be durable.
  deepStrictEqual(store.load().sessions.map((s) => s.session.clientId), [
    "kept",
  ]);
  store.release();
  const connack = await first.next();
  deepStrictEqual(connack, {
    type: "connack",
    sessionPresent: false,
    reasonCode: 0,
  });
  await first.close();

  store.failWith(new Error("disk full"));
  const second = connectStream(server).peer;
  const refused = await second.connect({
    clientId: "lost",
    clean: false,
    protocolVersion: 5,
    properties: { sessionExpiryInterval: 60 },
  });
  strictEqual(refused.type, "connack");
  strictEqual("reasonCode" in refused && refused.reasonCode, 0x88);
  await second.closed();
  await second.close();
  store.heal();
  await server.stop();
});

Deno.test("Server sends PUBREL only once the store has flushed the message's move to phase 2", async () => {
  const store = new GatedStore();
  const server = new Server({ store });
  const { peer: sub } = connectStream(server);
  await sub.connect({ clientId: "sub", clean: false });
  await sub.send({
    type: "subscribe",
    packetId: 1,
    subscriptions: [{ topicFilter: "a/b", qos: 2 }],
  });
  strictEqual((await sub.next()).type, "suback");
  const { peer: pub } = connectStream(server);
  await pub.connect({ clientId: "pub" });
  await pub.send({
    type: "publish",
    topic: "a/b",
    payload: new Uint8Array([1]),
    qos: 2,
    retain: false,
    dup: false,
    packetId: 1,
  });
  const sent = await sub.next();
  strictEqual(sent.type, "publish");
  const packetId = (sent as { packetId: number }).packetId;

  store.hold();
  await sub.send({ type: "pubrec", packetId });
  await sub.nothing(50);
  store.release();
  deepStrictEqual(await sub.next(), { type: "pubrel", packetId });
  await sub.close();
  await pub.close();
  await server.stop();
});
