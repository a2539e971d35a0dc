/**
 * What the nodes of a cluster write to each other through Redis, and read
 * back: batches of messages (each with the shared groups its node serves),
 * stream entries, heartbeats, control messages and interest changes.
 * Private to the cluster bus.
 *
 * @module
 */

import type { SharedGroupFilter } from "../core/ports.ts";
import type { Message } from "../message.ts";
import { encodedLengthAtMost, writeMessage } from "../message_codec.ts";
import { type RedisReply, replyText } from "../redis/mod.ts";
import { type GroupKey, groupKey } from "./_interest.ts";

/**
 * A node's last heartbeat. `at` is when this node read it, by its own
 * clock: nodes' clocks may differ.
 */
export interface Heartbeat {
  at: number;
  clients: number;
  subscriptions: number;
}

/** A control message between two nodes. */
export type Control =
  | { t: "release"; c: string; from: string; r: string }
  | { t: "released"; r: string };

/** An interest change, on the interest channel. */
export interface InterestChange {
  n: string;
  /** Adds a filter, removes one, the node joined (`j`) or left (`l`). */
  op: "+" | "-" | "j" | "l";
  f: string;
}

/** A heartbeat as stored; `undefined` when missing or unreadable. */
export function parseHeartbeat(
  reply: RedisReply | undefined,
): Heartbeat | undefined {
  if (reply === undefined || reply === null) return undefined;
  try {
    const beat = JSON.parse(replyText(reply)) as Partial<Heartbeat>;
    if (typeof beat.at !== "number") return undefined;
    return {
      at: Date.now(),
      clients: typeof beat.clients === "number" ? beat.clients : 0,
      subscriptions: typeof beat.subscriptions === "number"
        ? beat.subscriptions
        : 0,
    };
  } catch {
    return undefined;
  }
}

/**
 * The entries of an XREADGROUP reply for one stream: id, and the `b` field (a batch of messages)
 * (`undefined` when it lacks one). RESP2 answers `[[stream, entries]]`,
 * RESP3 `[stream, entries]` (a map as pairs); `null` when nothing came.
 */
export function streamEntries(
  reply: RedisReply,
): [id: string, message: Uint8Array | undefined][] {
  if (reply === null || !Array.isArray(reply) || reply.length === 0) return [];
  const first = reply[0];
  const entries = Array.isArray(first) ? first[1] : reply[1];
  if (!Array.isArray(entries)) return [];
  const out: [string, Uint8Array | undefined][] = [];
  for (const entry of entries) {
    if (!Array.isArray(entry)) continue;
    const id = replyText(entry[0] ?? null);
    const fields = entry[1];
    let message: Uint8Array | undefined;
    if (Array.isArray(fields)) {
      for (let i = 0; i + 1 < fields.length; i += 2) {
        const value = fields[i + 1];
        if (
          replyText(fields[i] ?? null) === "b" && value instanceof Uint8Array
        ) {
          message = value;
        }
      }
    }
    out.push([id, message]);
  }
  return out;
}

/** A message in a batch, with the shared groups its node serves. */
export type BatchEntry = [message: Uint8Array, groups: readonly GroupKey[]];

export const NO_GROUPS: readonly GroupKey[] = Object.freeze([]);
const TEXT = new TextEncoder();
const UTF8 = new TextDecoder("utf-8", { fatal: true });

const SERVES_NONE: SharedGroupFilter = () => false;

/** The filter of the shared groups a node serves: these, none else. */
export function servedBy(
  groups: readonly GroupKey[] | undefined,
): SharedGroupFilter {
  if (groups === undefined || groups.length === 0) return SERVES_NONE;
  return (share, filter) => groups.includes(groupKey(share, filter));
}

/**
 * Messages going to one node, written as they come into one buffer kept
 * from frame to frame: each as a 32-bit length, the length of its group
 * list (16 bits), the list (group keys, newline-separated, UTF-8), and the
 * message as `encodeMessage` makes it.
 */
export class BatchWriter {
  #buffer = new Uint8Array(4096);
  #at = 0;
  /** Messages written since the last frame. */
  count = 0;

  /**
   * Writes a message, with the shared groups its node serves.
   *
   * @returns Where its encoded message lies in the buffer, valid until the
   * next write: for {@linkcode addEncoded} on the batches of other nodes.
   */
  add(
    message: Message,
    properties: string | undefined,
    groups: readonly GroupKey[] | undefined,
  ): Uint8Array {
    const list = groupList(groups);
    const start = this.#reserve(
      6 + list.length + encodedLengthAtMost(message, properties),
    );
    const from = start + 6 + list.length;
    const end = writeMessage(message, properties, this.#buffer, from);
    this.#close(start, list, end);
    return this.#buffer.subarray(from, end);
  }

  /** Forgets what was written: the next frame starts empty. */
  clear(): void {
    this.#at = 0;
    this.count = 0;
  }

  /** Writes a message already encoded (by another batch's `add`). */
  addEncoded(bytes: Uint8Array, groups: readonly GroupKey[] | undefined): void {
    const list = groupList(groups);
    const start = this.#reserve(6 + list.length + bytes.length);
    const from = start + 6 + list.length;
    this.#buffer.set(bytes, from);
    this.#close(start, list, from + bytes.length);
  }

  /** The frame of what was written, which starts the next one empty. */
  take(): Uint8Array {
    const frame = this.#buffer.slice(0, this.#at);
    this.#at = 0;
    this.count = 0;
    // A frame far larger than usual leaves no lasting buffer behind.
    if (this.#buffer.length > MAX_KEPT) this.#buffer = new Uint8Array(4096);
    return frame;
  }

  /** Makes room for `size` bytes; returns where they start. */
  #reserve(size: number): number {
    const start = this.#at;
    if (start + size > this.#buffer.length) {
      const grown = new Uint8Array(
        Math.max(2 * this.#buffer.length, start + size),
      );
      grown.set(this.#buffer.subarray(0, start));
      this.#buffer = grown;
    }
    return start;
  }

  #close(start: number, list: Uint8Array, end: number): void {
    const buffer = this.#buffer;
    const length = end - start - 4;
    buffer[start] = length >>> 24;
    buffer[start + 1] = (length >>> 16) & 0xff;
    buffer[start + 2] = (length >>> 8) & 0xff;
    buffer[start + 3] = length & 0xff;
    buffer[start + 4] = list.length >>> 8;
    buffer[start + 5] = list.length & 0xff;
    if (list.length > 0) buffer.set(list, start + 6);
    this.#at = end;
    this.count++;
  }
}

/** The buffer a `BatchWriter` keeps between frames, at most. */
const MAX_KEPT = 1 << 20;
const NO_LIST = new Uint8Array(0);

function groupList(groups: readonly GroupKey[] | undefined): Uint8Array {
  return groups === undefined || groups.length === 0
    ? NO_LIST
    : TEXT.encode(groups.join("\n"));
}

/** The entries of a frame made by a `BatchWriter`; throws if malformed. */
export function decodeBatch(frame: Uint8Array): BatchEntry[] {
  const view = new DataView(frame.buffer, frame.byteOffset, frame.length);
  const entries: BatchEntry[] = [];
  let at = 0;
  while (at < frame.length) {
    if (at + 6 > frame.length) throw new RangeError("truncated batch");
    const length = view.getUint32(at);
    const listLength = view.getUint16(at + 4);
    if (length < 2 + listLength || at + 4 + length > frame.length) {
      throw new RangeError("truncated batch");
    }
    const groups = listLength === 0
      ? NO_GROUPS
      : UTF8.decode(frame.subarray(at + 6, at + 6 + listLength)).split("\n");
    entries.push([
      frame.subarray(at + 6 + listLength, at + 4 + length),
      groups,
    ]);
    at += 4 + length;
  }
  return entries;
}
