/**
 * Where the Redis store keeps what, and the Lua scripts that read it:
 * private to the store, which documents the layout at the top of
 * `redis.ts`. This module owns the key names; `_redis_rows.ts` owns the
 * values.
 *
 * @module
 */

import {
  type RedisReply,
  replyArray,
  replyBytes,
  replyNumber,
  replyText,
} from "../redis/mod.ts";
import type {
  StoredInflight,
  StoredSession,
  SubscriptionRecord,
} from "../core/ports.ts";
import {
  decodeDelivery,
  decodeRecord,
  decodeSubscription,
  readInflightScore,
} from "./_redis_rows.ts";

/** The keys of one session. */
export interface SessionKeys {
  /** Hash: `r` the record, `o` the node that owns it. */
  readonly session: string;
  /** Hash: topic filter → subscription record. */
  readonly subscriptions: string;
  /** Sorted set: queue members `{seq}:{size}`, scored by seq. */
  readonly queue: string;
  /** Hash: seq → delivery. */
  readonly queued: string;
  /** Sorted set: packet ids in flight, scored by place and phase. */
  readonly inflight: string;
  /** Hash: packet id → delivery in flight. */
  readonly sent: string;
  /** Set: packet ids of incoming QoS 2 messages not yet released. */
  readonly incoming: string;
}

/** The key names under one prefix. */
export class Keys {
  /** String: the schema version. */
  readonly schema: string;
  /** Hash: topic → retained message. */
  readonly retained: string;
  /** What a node's key is made of before its id. */
  readonly nodePrefix: string;
  /** What a session's key is made of before its client id. */
  readonly sessionPrefix: string;
  readonly #prefix: string;

  constructor(prefix: string) {
    this.#prefix = prefix;
    this.schema = `${prefix}schema`;
    this.retained = `${prefix}retained`;
    this.nodePrefix = `${prefix}owned:`;
    this.sessionPrefix = `${prefix}session:`;
  }

  /** Set: the client ids of the sessions a node owns. */
  node(nodeId: string): string {
    return this.nodePrefix + nodeId;
  }

  /** The keys of a session. */
  session(clientId: string): SessionKeys {
    const p = this.#prefix;
    return {
      session: this.sessionPrefix + clientId,
      subscriptions: `${p}subs:${clientId}`,
      queue: `${p}queue:${clientId}`,
      queued: `${p}queued:${clientId}`,
      inflight: `${p}inflight:${clientId}`,
      sent: `${p}sent:${clientId}`,
      incoming: `${p}incoming:${clientId}`,
    };
  }
}

/** Every key of a session, for `DEL`. */
export function allKeys(keys: SessionKeys): string[] {
  return [
    keys.session,
    keys.subscriptions,
    keys.queue,
    keys.queued,
    keys.inflight,
    keys.sent,
    keys.incoming,
  ];
}

/**
 * Reads a session, in `load` mode only if the node owns it (else drops it
 * from the node's set: another node took it), in `take` mode whoever owns
 * it, moving it to the node. Nil if there is no such session; else its
 * record, subscriptions, queue count, bytes and last seq, messages in
 * flight with their scores, their deliveries, and incoming packet ids.
 *
 * KEYS: session, subscriptions, queue, inflight, sent, incoming, and the
 * node's set. ARGV: mode, node id, node key prefix, client id.
 */
const READ_SESSION = `
local record = redis.call('HGET', KEYS[1], 'r')
local owner = redis.call('HGET', KEYS[1], 'o')
if ARGV[1] == 'take' then
  if not record then return false end
  if owner ~= ARGV[2] then
    if owner then redis.call('SREM', ARGV[3] .. owner, ARGV[4]) end
    redis.call('HSET', KEYS[1], 'o', ARGV[2])
    redis.call('SADD', KEYS[7], ARGV[4])
  end
elseif (not record) or owner ~= ARGV[2] then
  redis.call('SREM', KEYS[7], ARGV[4])
  return false
end
local members = redis.call('ZRANGE', KEYS[3], 0, -1)
local bytes = 0
for i = 1, #members do
  bytes = bytes + tonumber(string.match(members[i], ':(%d+)$'))
end
local last = 0
if #members > 0 then
  last = tonumber(string.match(members[#members], '^(%d+):'))
end
return {
  record,
  redis.call('HGETALL', KEYS[2]),
  #members,
  bytes,
  last,
  redis.call('ZRANGE', KEYS[4], 0, -1, 'WITHSCORES'),
  redis.call('HGETALL', KEYS[5]),
  redis.call('SMEMBERS', KEYS[6])
}`;

/**
 * Reads a page of a queue: members and deliveries in turn (a delivery nil
 * if missing). KEYS: queue, queued. ARGV: first rank, last rank.
 */
const READ_QUEUE = `
local members = redis.call('ZRANGE', KEYS[1], ARGV[1], ARGV[2])
local out = {}
for i = 1, #members do
  out[#out + 1] = members[i]
  out[#out + 1] = redis.call('HGET', KEYS[2], string.match(members[i], '^(%d+):'))
end
return out`;

/**
 * Moves every session a node owns to another, at once: the first node to
 * ask gets them all, the next none. Returns the client ids moved.
 * KEYS: the gone node's set, this node's set. ARGV: gone node id, this
 * node id, session key prefix.
 */
const ADOPT = `
local ids = redis.call('SMEMBERS', KEYS[1])
redis.call('DEL', KEYS[1])
local moved = {}
for i = 1, #ids do
  local key = ARGV[3] .. ids[i]
  if redis.call('HGET', key, 'o') == ARGV[1] then
    redis.call('HSET', key, 'o', ARGV[2])
    redis.call('SADD', KEYS[2], ids[i])
    moved[#moved + 1] = ids[i]
  end
end
return moved`;

/** Every script, for their SHA-1s. */
export const SCRIPTS: readonly string[] = [READ_SESSION, READ_QUEUE, ADOPT];

/** The command that reads a session (see `READ_SESSION`). */
export function readSessionCommand(
  keys: Keys,
  nodeId: string,
  clientId: string,
  mode: "load" | "take",
): string[] {
  const k = keys.session(clientId);
  return [
    "EVAL",
    READ_SESSION,
    "7",
    k.session,
    k.subscriptions,
    k.queue,
    k.inflight,
    k.sent,
    k.incoming,
    keys.node(nodeId),
    mode,
    nodeId,
    keys.nodePrefix,
    clientId,
  ];
}

/** The command that reads a page of a queue, ranks from 0. */
export function readQueueCommand(
  k: SessionKeys,
  skip: number,
  limit: number,
): (string | number)[] {
  return ["EVAL", READ_QUEUE, 2, k.queue, k.queued, skip, skip + limit - 1];
}

/** The command that moves a gone node's sessions to this one. */
export function adoptCommand(
  keys: Keys,
  goneNodeId: string,
  nodeId: string,
): string[] {
  return [
    "EVAL",
    ADOPT,
    "2",
    keys.node(goneNodeId),
    keys.node(nodeId),
    goneNodeId,
    nodeId,
    keys.sessionPrefix,
  ];
}

/** A session read back, with what the store keeps of it in memory. */
export interface ReadSession {
  /** As `load()` gives it. */
  readonly stored: StoredSession;
  /** The place of each message in flight, by packet id. */
  readonly inflight: Map<number, number>;
  /** The highest place used by its queue and messages in flight. */
  readonly lastSeq: number;
}

/**
 * Reads what `READ_SESSION` answered; `undefined` for nil.
 *
 * @throws {TypeError} If the reply is not of that shape.
 * @throws {MessageCodecError} If a value cannot be decoded.
 */
export function readSessionReply(
  clientId: string,
  reply: RedisReply,
): ReadSession | undefined {
  if (reply === null) return undefined;
  const [record, subs, count, bytes, last, scores, sent, incoming] = replyArray(
    reply,
  );
  const subscriptions: [string, SubscriptionRecord][] = [];
  const subItems = replyArray(subs ?? null);
  for (let i = 0; i + 1 < subItems.length; i += 2) {
    subscriptions.push([
      replyText(subItems[i]!),
      decodeSubscription(replyText(subItems[i + 1]!)),
    ]);
  }
  const deliveries = new Map<number, Uint8Array>();
  const sentItems = replyArray(sent ?? null);
  for (let i = 0; i + 1 < sentItems.length; i += 2) {
    deliveries.set(
      replyNumber(sentItems[i]!),
      replyBytes(sentItems[i + 1]!),
    );
  }
  const inflight: StoredInflight[] = [];
  const places = new Map<number, number>();
  let lastSeq = replyNumber(last ?? 0);
  const scoreItems = replyArray(scores ?? null);
  for (let i = 0; i + 1 < scoreItems.length; i += 2) {
    const packetId = replyNumber(scoreItems[i]!);
    const { seq, phase } = readInflightScore(replyNumber(scoreItems[i + 1]!));
    const data = deliveries.get(packetId);
    if (data === undefined) continue;
    places.set(packetId, seq);
    lastSeq = Math.max(lastSeq, seq);
    inflight.push({ packetId, delivery: decodeDelivery(data), phase });
  }
  const queued = replyNumber(count ?? 0);
  const stored: StoredSession = {
    session: decodeRecord(clientId, replyBytes(record ?? null)),
    subscriptions,
    queue: [],
    ...(queued > 0
      ? { queueInStore: { count: queued, bytes: replyNumber(bytes ?? 0) } }
      : {}),
    inflight,
    incomingQoS2: replyArray(incoming ?? null).map(replyNumber),
  };
  return { stored, inflight: places, lastSeq };
}
