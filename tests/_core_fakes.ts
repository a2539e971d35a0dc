/**
 * Fakes for unit tests of the core (`tests/core_*_test.ts`): a clock that
 * moves only when told, client links that record what the core writes to
 * them, hooks that record what the core reports, a bus that records what
 * passes through it, and a core assembled from them over a store. No
 * socket, no timer, no server.
 *
 * @module
 */

import { strictEqual } from "node:assert/strict";
import type { PublishPacket, QoS, Will } from "../packets/types.ts";
import type { RefusalCode } from "../packets/reason_code.ts";
import { LocalBus } from "../src/core/bus.ts";
import { Core } from "../src/core/core.ts";
import type { CoreOptions } from "../src/core/options.ts";
import type {
  Bus,
  BusNode,
  ClientLink,
  CloseOptions,
  CoreHooks,
  Delivery,
  StoredState,
} from "../src/core/ports.ts";
import { queuedSize, type Session } from "../src/core/session.ts";
import type { AttachOptions } from "../src/core/session_registry.ts";
import type { Message } from "../src/message.ts";
import { silentLogger } from "../src/observe/logger.ts";
import { MemoryStore } from "../src/store/memory.ts";
import type {
  ClientInfo,
  DropReason,
  SessionTerminatedReason,
} from "../src/types.ts";

// -- the clock -----------------------------------------------------------------

/** A clock that moves only when a test advances it. */
export class FakeClock {
  /** The time now, in milliseconds. */
  time: number;
  /** The clock as the core reads it. */
  readonly now: () => number = () => this.time;

  constructor(start = 0) {
    this.time = start;
  }

  /** Moves the clock forward by `ms` milliseconds. */
  advance(ms: number): void {
    this.time += ms;
  }
}

// -- options and values ----------------------------------------------------------

/**
 * Core options: the server's defaults (as `ServerOptions` documents them),
 * with the given ones instead.
 */
export function coreOptions(overrides: Partial<CoreOptions> = {}): CoreOptions {
  return {
    maxInflight: 32,
    maxQueuedMessages: 1000,
    maxQueuedBytes: 8 << 20,
    maxQueuedMemory: 256 << 20,
    queueQoS0Messages: true,
    queueFull: "backpressure",
    retainAvailable: true,
    maxRetainedMessages: 100_000,
    maxRetainedBytes: 64 << 20,
    messageExpiry: 0,
    sharedSubscriptionOffline: "online_first",
    maxSessions: 100_000,
    sessionOwnerChange: "refuse",
    ...overrides,
  };
}

/** A 5.0 client that connected with a persistent session. */
export function clientInfo(
  clientId: string,
  overrides: Partial<ClientInfo> = {},
): ClientInfo {
  return {
    clientId,
    username: undefined,
    remoteAddress: "127.0.0.1:50000",
    localAddress: "127.0.0.1:1883",
    transport: "stream",
    listener: "",
    protocolVersion: 5,
    clean: false,
    keepAlive: 0,
    ...overrides,
  };
}

/** The UTF-8 bytes of a string. */
export function bytes(text: string): Uint8Array {
  return new TextEncoder().encode(text);
}

/** The text of a payload. */
export function text(payload: Uint8Array): string {
  return new TextDecoder().decode(payload);
}

/** A message as the core routes it: QoS 0, not retained, made at 0. */
export function message(
  topic: string,
  payload = "",
  overrides: Partial<Message> = {},
): Message {
  return {
    topic,
    payload: bytes(payload),
    qos: 0,
    retain: false,
    createdAt: 0,
    ...overrides,
  };
}

/** A will as a CONNECT carries it; `delay` is its Will Delay Interval. */
export function will(
  topic: string,
  payload: string,
  options: { qos?: QoS; retain?: boolean; delay?: number } = {},
): Will {
  return {
    topic,
    payload: bytes(payload),
    qos: options.qos ?? 0,
    retain: options.retain ?? false,
    ...(options.delay !== undefined
      ? { properties: { willDelayInterval: options.delay } }
      : {}),
  };
}

// -- the client link -------------------------------------------------------------

/** A PUBLISH the core wrote to a link. */
export interface SentPublish {
  readonly delivery: Delivery;
  readonly packetId: number | undefined;
  readonly dup: boolean;
  /** What `sendPublish` answered: false when the output was full. */
  readonly accepted: boolean;
}

/** A close the core asked of a link. */
export interface CloseCall {
  readonly error: Error | undefined;
  readonly options: CloseOptions | undefined;
}

/**
 * A connected client as the core sees it. It records every PUBLISH,
 * PUBREL and close; `accept` false makes `sendPublish` answer that the
 * output buffer is full. Closing it detaches its session from the core
 * as the protocol layer's connection does: the will goes out when it
 * closes with an error.
 */
export class FakeLink implements ClientLink {
  readonly client: ClientInfo;
  /** Every PUBLISH written, in order. */
  readonly publishes: SentPublish[] = [];
  /** Packet ids of every PUBREL written, in order. */
  readonly pubrels: number[] = [];
  /** Every close the core asked, in order. */
  readonly closes: CloseCall[] = [];
  /** What `sendPublish` answers; false: the output buffer is full. */
  accept = true;
  /** The session it is bound to, once connected. */
  session: Session | undefined;
  #closed = false;
  readonly #core: Core;

  constructor(core: Core, client: ClientInfo) {
    this.#core = core;
    this.client = client;
  }

  get isClosed(): boolean {
    return this.#closed;
  }

  sendPublish(
    delivery: Delivery,
    packetId: number | undefined,
    dup: boolean,
  ): boolean {
    this.publishes.push({ delivery, packetId, dup, accepted: this.accept });
    return this.accept;
  }

  sendPubrel(packetId: number): void {
    this.pubrels.push(packetId);
  }

  close(error: Error | undefined, options?: CloseOptions): Promise<void> {
    this.closes.push({ error, options });
    this.#close(error, options);
    return Promise.resolve();
  }

  #close(error: Error | undefined, options?: CloseOptions): void {
    if (this.#closed) return;
    this.#closed = true;
    if (this.session !== undefined) {
      this.#core.sessions.detach(this, this.session, {
        publishWill: error !== undefined,
        endReason: options?.endReason,
      });
    }
  }

  /** The topics of the PUBLISH packets accepted, in order. */
  get topics(): string[] {
    return this.publishes.filter((p) => p.accepted).map((p) =>
      p.delivery.message.topic
    );
  }

  /** The payloads, as text, of the PUBLISH packets accepted, in order. */
  get payloads(): string[] {
    return this.publishes.filter((p) => p.accepted).map((p) =>
      text(p.delivery.message.payload)
    );
  }

  /** Goes away after DISCONNECT: no will. */
  disconnect(): void {
    this.#close(undefined);
  }

  /** Goes away without DISCONNECT: the will goes out. */
  drop(): void {
    this.#close(new Error("Connection lost"));
  }
}

/** What {@linkcode connect} is told besides the attach options. */
export interface ConnectOptions extends Partial<AttachOptions> {
  /** Clean start; false by default. */
  readonly clean?: boolean;
  /** User name; none by default. */
  readonly username?: string;
}

/** A connected fake client: its link, its session, whether it was there. */
export interface Connected {
  readonly link: FakeLink;
  readonly session: Session;
  readonly present: boolean;
}

/**
 * Connects a client as the protocol layer does once CONNECT is accepted:
 * attaches a new link to the session of its client id, then resumes the
 * session on it. The session outlives the link for an hour unless
 * `expiryInterval` says otherwise.
 */
export function connect(
  core: Core,
  clientId: string,
  options: ConnectOptions = {},
): Connected {
  const client = clientInfo(clientId, {
    clean: options.clean ?? false,
    username: options.username,
  });
  const link = new FakeLink(core, client);
  const attached = core.sessions.attach(link, client, {
    expiryInterval: options.expiryInterval ?? 3600,
    receiveMaximum: options.receiveMaximum,
    will: options.will,
  });
  if (attached === undefined) throw new Error(`${clientId} refused`);
  link.session = attached.session;
  attached.session.resume(link);
  return { link, ...attached };
}

// -- the hooks -------------------------------------------------------------------

/** A drop the core reported. */
export interface DropRecord {
  readonly clientId: string | undefined;
  readonly topic: string;
  readonly payload: string;
  readonly reason: DropReason;
}

/** What a {@linkcode FakeHooks} answers; each one makes its `has*` true. */
export interface FakeHooksOptions {
  /** Transforms every message routed. */
  readonly transform?: CoreHooks["transformMessage"];
  /** Decides on the wills the core publishes. */
  readonly checkPublish?: (
    client: ClientInfo,
    packet: PublishPacket,
  ) => RefusalCode | undefined | Promise<RefusalCode | undefined>;
  /** Decides on deliveries to marked subscriptions; yes by default. */
  readonly mayDeliver?: CoreHooks["mayDeliver"];
  /** Whether drops are reported; true by default. */
  readonly observesDropped?: boolean;
  /** Whether deliveries are reported; false by default. */
  readonly observesDelivered?: boolean;
}

/**
 * Hooks as the core asks them: nothing transformed or checked unless
 * told, every report recorded.
 */
export class FakeHooks implements CoreHooks {
  readonly hasTransform: boolean;
  readonly hasCheckPublish: boolean;
  readonly observesDropped: boolean;
  readonly observesDelivered: boolean;
  /** Sessions ended, in order. */
  readonly terminated: [string, SessionTerminatedReason][] = [];
  /** Messages dropped, in order. */
  readonly dropped: DropRecord[] = [];
  /** Messages delivered, in order: client id and topic. */
  readonly delivered: [string, string][] = [];
  /** Clients and messages `mayDeliver` was asked about. */
  readonly asked: [string, string][] = [];
  readonly #options: FakeHooksOptions;

  constructor(options: FakeHooksOptions = {}) {
    this.#options = options;
    this.hasTransform = options.transform !== undefined;
    this.hasCheckPublish = options.checkPublish !== undefined;
    this.observesDropped = options.observesDropped ?? true;
    this.observesDelivered = options.observesDelivered ?? false;
  }

  transformMessage(
    client: ClientInfo | undefined,
    message: Message,
  ): Message | null | Promise<Message | null> {
    const transform = this.#options.transform;
    return transform === undefined ? message : transform(client, message);
  }

  checkPublish(
    client: ClientInfo,
    packet: PublishPacket,
  ): RefusalCode | undefined | Promise<RefusalCode | undefined> {
    return this.#options.checkPublish?.(client, packet);
  }

  mayDeliver(client: ClientInfo, message: Message): boolean {
    this.asked.push([client.clientId, message.topic]);
    return this.#options.mayDeliver?.(client, message) ?? true;
  }

  notify(
    name: "onSessionTerminated",
    clientId: string,
    reason: SessionTerminatedReason,
  ): void;
  notify(
    name: "onMessageDropped",
    clientId: string | undefined,
    message: Message,
    reason: DropReason,
  ): void;
  notify(name: "onDelivered", client: ClientInfo, message: Message): void;
  notify(name: string, ...args: unknown[]): void {
    switch (name) {
      case "onSessionTerminated":
        this.terminated.push([
          args[0] as string,
          args[1] as SessionTerminatedReason,
        ]);
        break;
      case "onMessageDropped": {
        const message = args[1] as Message;
        this.dropped.push({
          clientId: args[0] as string | undefined,
          topic: message.topic,
          payload: text(message.payload),
          reason: args[2] as DropReason,
        });
        break;
      }
      case "onDelivered":
        this.delivered.push([
          (args[0] as ClientInfo).clientId,
          (args[1] as Message).topic,
        ]);
        break;
      default:
        throw new Error(`Unexpected notification: ${name}`);
    }
  }

  /** The drops reported, as `clientId payload reason` lines. */
  get drops(): string[] {
    return this.dropped.map((d) =>
      `${d.clientId ?? "-"} ${d.payload} ${d.reason}`
    );
  }
}

// -- the bus ---------------------------------------------------------------------

/**
 * A {@linkcode LocalBus} that records what passes through it: each
 * message published, and each interest added (`+filter`) or removed
 * (`-filter`).
 */
export class RecordingBus implements Bus {
  readonly #inner: LocalBus = new LocalBus();
  /** The messages published, in order. */
  readonly published: Message[] = [];
  /** Interest changes, `+filter` and `-filter`, in order. */
  readonly interest: string[] = [];

  attach(node: BusNode): void {
    this.#inner.attach(node);
  }

  publish(message: Message, hold: boolean): Promise<void> | undefined {
    this.published.push(message);
    return this.#inner.publish(message, hold);
  }

  addInterest(topicFilter: string): void {
    this.interest.push(`+${topicFilter}`);
    this.#inner.addInterest(topicFilter);
  }

  removeInterest(topicFilter: string): void {
    this.interest.push(`-${topicFilter}`);
    this.#inner.removeInterest(topicFilter);
  }

  takeOver(clientId: string): undefined {
    return this.#inner.takeOver(clientId);
  }

  close(): void {
    this.#inner.close();
  }
}

// -- a store that keeps queues ------------------------------------------------

/**
 * A {@linkcode MemoryStore} that keeps offline queues on its side, as the
 * SQLite store does: `load()` gives their counts, not their messages, and
 * `readQueue` reads them back, at once or (with `async`) a turn later.
 */
export class PagingStore extends MemoryStore {
  /** Every `readQueue` call, in order: client id, skip and limit. */
  readonly reads: [string, number, number][] = [];
  /** Whether reads answer with a promise. */
  readonly async: boolean;

  constructor(options: { async?: boolean } = {}) {
    super();
    this.async = options.async ?? false;
  }

  override load(): StoredState {
    const state = super.load();
    return {
      ...state,
      sessions: state.sessions.map((s) => ({
        ...s,
        queue: [],
        queueInStore: {
          count: s.queue.length,
          bytes: s.queue.reduce((sum, d) => sum + queuedSize(d), 0),
        },
      })),
    };
  }

  readQueue(
    clientId: string,
    skip: number,
    limit: number,
  ): Delivery[] | Promise<Delivery[]> {
    this.reads.push([clientId, skip, limit]);
    const queue =
      super.load().sessions.find((s) => s.session.clientId === clientId)
        ?.queue ?? [];
    const page = queue.slice(skip, skip + limit);
    return this.async ? Promise.resolve(page) : page;
  }

  /** The topics of a session's queue as stored, in order. */
  queuedTopics(clientId: string): string[] {
    return (super.load().sessions.find((s) => s.session.clientId === clientId)
      ?.queue ?? []).map((d) => d.message.topic);
  }
}

// -- the core --------------------------------------------------------------------

/** What {@linkcode startCore} is given; everything has a default. */
export interface StartCoreOptions {
  /** Options in place of {@linkcode coreOptions}'s. */
  readonly options?: Partial<CoreOptions>;
  /** The clock; a new one at 0 by default. */
  readonly clock?: FakeClock;
  /** The hooks; a new {@linkcode FakeHooks} by default. */
  readonly hooks?: FakeHooks;
  /** The store; a new {@linkcode MemoryStore} by default. */
  readonly store?: MemoryStore;
  /** The bus; a {@linkcode LocalBus} by default. */
  readonly bus?: Bus;
}

/** A core with its fakes. */
export interface Started {
  readonly core: Core;
  readonly clock: FakeClock;
  readonly hooks: FakeHooks;
  readonly store: MemoryStore;
}

/**
 * Makes a core over fakes and loads what its store holds, as a server
 * does before its first connection (at once: the store and bus answer
 * without a promise).
 */
export function startCore(options: StartCoreOptions = {}): Started {
  const clock = options.clock ?? new FakeClock();
  const hooks = options.hooks ?? new FakeHooks();
  const store = options.store ?? new MemoryStore();
  const core = new Core({
    options: coreOptions(options.options),
    hooks,
    logger: silentLogger(),
    now: clock.now,
    store,
    ...(options.bus !== undefined ? { bus: options.bus } : {}),
  });
  strictEqual(core.load(), undefined);
  return { core, clock, hooks, store };
}

/**
 * Publishes a message from the server's side (no client), which must be
 * routed at once.
 */
export function publish(core: Core, message: Message): void {
  strictEqual(core.router.publish(message, undefined), undefined);
}

/**
 * Lets every callback queued so far run, and those they queue, a few turns
 * deep: what a hook's or a store's resolved promise sets going. No timer.
 */
export async function settle(): Promise<void> {
  for (let i = 0; i < 20; i++) await Promise.resolve();
}

/** Whether a promise has settled once {@linkcode settle} has run. */
export async function hasSettled(promise: Promise<unknown>): Promise<boolean> {
  let settled = false;
  promise.then(
    () => settled = true,
    () => settled = true,
  );
  await settle();
  return settled;
}
