/**
 * Helpers for the connection, session, will, hooks and lifecycle tests: a
 * fake clock, packet builders, raw CONNECT bytes, and a hook recorder.
 *
 * @module
 */

import { deepStrictEqual } from "node:assert/strict";
import type { Packet, QoS } from "../packets/mod.ts";
import { suback, subscribe } from "../packets/testdata/packets.ts";
import type { Hooks } from "../mod.ts";
import type { TestClient } from "./_client.ts";

/** A clock the server reads through its `now` option; tests move it. */
export class FakeClock {
  #now = 1_700_000_000_000;

  /** The `now` option to give the server. */
  readonly now = (): number => this.#now;

  /** Moves time forward by `ms` milliseconds. */
  advance(ms: number): void {
    this.#now += ms;
  }
}

/** A loopback port that was free a moment ago, as the kernel picks one. */
export function freePort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const { port } = listener.addr;
  listener.close();
  return port;
}

/** Sleeps for `ms` real milliseconds (to let a 5 ms sweep run). */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Polls `condition` every millisecond until it holds; throws after `timeout` ms. */
export async function waitFor(
  condition: () => boolean,
  timeout = 2000,
): Promise<void> {
  const deadline = Date.now() + timeout;
  while (!condition()) {
    if (Date.now() > deadline) {
      throw new Error(`Condition still false after ${timeout} ms`);
    }
    await sleep(1);
  }
}

/**
 * Raw bytes of a CONNECT with no will, user name or password, for CONNECTs
 * the encoder refuses to write (wrong protocol name, reserved flag...).
 */
export function connectBytes(
  fields: {
    protocolName?: string;
    level?: number;
    flags?: number;
    keepAlive?: number;
    clientId?: string;
  } = {},
): Uint8Array {
  const text = new TextEncoder();
  const name = text.encode(fields.protocolName ?? "MQTT");
  const id = text.encode(fields.clientId ?? "c");
  const body = [
    name.length >> 8,
    name.length & 0xff,
    ...name,
    fields.level ?? 4,
    fields.flags ?? 0x02,
    (fields.keepAlive ?? 0) >> 8,
    (fields.keepAlive ?? 0) & 0xff,
    id.length >> 8,
    id.length & 0xff,
    ...id,
  ];
  return Uint8Array.of(0x10, body.length, ...body);
}

/** Decodes a payload as UTF-8. */
export function text(payload: Uint8Array): string {
  return new TextDecoder().decode(payload);
}

/** One recorded hook call: its name and arguments. */
export type HookCall = [name: string, ...args: unknown[]];

/**
 * Hooks that record every `on` call (and answer nothing to `check` calls
 * unless `overrides` say otherwise), in call order.
 */
export function recordingHooks(
  calls: HookCall[],
  overrides: Hooks = {},
): Hooks {
  const names = [
    "onConnected",
    "onSessionCreated",
    "onSessionResumed",
    "onSessionTerminated",
    "onSubscribed",
    "onUnsubscribed",
    "onDelivered",
    "onMessageDropped",
    "onClosed",
    "onStop",
  ] as const;
  const hooks: Record<string, (...args: unknown[]) => void> = {};
  for (const name of names) {
    hooks[name] = (...args: unknown[]) => void calls.push([name, ...args]);
  }
  return { ...(hooks as Hooks), ...overrides };
}

/** Every packet a client got before the server closed its connection. */
export async function packetsUntilClosed(
  client: TestClient,
): Promise<Packet[]> {
  await client.closed();
  const packets: Packet[] = [];
  for (;;) {
    try {
      packets.push(await client.next(0));
    } catch {
      return packets;
    }
  }
}

/** Subscribes to one filter and checks the SUBACK grants `qos`. */
export async function subscribeTo(
  client: TestClient,
  topicFilter: string,
  qos: QoS,
  packetId = 10,
): Promise<void> {
  await client.send(
    subscribe({ packetId, subscriptions: [[topicFilter, qos]] }),
  );
  deepStrictEqual(
    await client.next(),
    suback({ packetId, reasonCodes: [qos] }),
  );
}
