/**
 * The session registry: every session by client id, and which client link
 * each connected client has. It binds a connecting client to its session
 * (taking over an older connection of the same client id), unbinds it when
 * it goes (publishing its will, now or after its delay), ends sessions
 * that expire, and writes each session's record to the store.
 *
 * @module
 */

import { ReasonCode, type RefusalCode } from "../../packets/reason_code.ts";
import type { Will } from "../../packets/types.ts";
import type { ClientInfo, SessionTerminatedReason } from "../types.ts";
import type { Message } from "../message.ts";
import type { Logger } from "../observe/logger.ts";
import { storedWill, willMessage } from "./messages.ts";
import type { Metrics } from "./metrics.ts";
import type { CoreOptions } from "./options.ts";
import type {
  Bus,
  ClientLink,
  CloseOptions,
  EndReason,
  Store,
  StoredSession,
} from "./ports.ts";
import { Session, type SessionContext } from "./session.ts";
import type { SubscriptionIndex } from "./subscription_index.ts";

/** What the registry needs around it. */
export interface SessionRegistryContext {
  readonly options: CoreOptions;
  readonly logger: Logger;
  readonly now: () => number;
  readonly metrics: Metrics;
  readonly store: Store;
  readonly bus: Bus;
  readonly subscriptions: SubscriptionIndex;
  /** What each session is made with: the router. */
  readonly sessionContext: SessionContext;
  /**
   * Publishes a will: through the publish checks and the router. Never
   * rejects; a failure is logged.
   */
  publishWill(client: ClientInfo, message: Message): void;
  /** Tells the hooks a session ended. */
  sessionTerminated(clientId: string, reason: SessionTerminatedReason): void;
}

/** What a client asks for when it binds to its session. */
export interface AttachOptions {
  /** Seconds the session outlives the connection; 0 ends it with it. */
  readonly expiryInterval: number;
  /** The client's Receive Maximum (MQTT 5.0); 65,535 by default. */
  readonly receiveMaximum?: number | undefined;
  /** The will of the CONNECT, if any. */
  readonly will?: Will | undefined;
}

/** How a connection lets go of its session. */
export interface DetachOptions {
  /** Whether its will is published (it went without DISCONNECT). */
  readonly publishWill: boolean;
  /** Why the session ends with it, when not the client's doing. */
  readonly endReason?: EndReason | undefined;
}

/** A will waiting for its delay (MQTT 5.0) to pass. */
interface PendingWill {
  readonly client: ClientInfo;
  readonly message: Message;
  readonly dueAt: number;
}

/** Every session of one server, and the links of connected clients. */
export class SessionRegistry {
  readonly #sessions: Map<string, Session> = new Map();
  /** Connected clients by client id. */
  readonly #online: Map<string, ClientLink> = new Map();
  readonly #pendingWills: Map<string, PendingWill> = new Map();
  /** Wills that `restore` found due, published by `restored`. */
  #restoredWills: PendingWill[] = [];
  readonly #context: SessionRegistryContext;

  constructor(context: SessionRegistryContext) {
    this.#context = context;
  }

  /** The number of sessions, offline ones included. */
  get size(): number {
    return this.#sessions.size;
  }

  /** The number of connected clients. */
  get onlineCount(): number {
    return this.#online.size;
  }

  /** The session of a client id, if there is one. */
  get(clientId: string): Session | undefined {
    return this.#sessions.get(clientId);
  }

  /** Every session. */
  values(): IterableIterator<Session> {
    return this.#sessions.values();
  }

  /**
   * Calls `fn` with every session. Unlike a loop over `values()`, it makes
   * no object per session, whether or not the caller was optimized: the
   * periodic walks (the sweep, `$SYS`, the dashboard's figures) use it, so
   * that a broker with many idle clients makes no garbage per client while
   * idle.
   */
  forEach(fn: (session: Session) => void): void {
    this.#sessions.forEach(fn);
  }

  /** The link of a connected client, if it is connected. */
  link(clientId: string): ClientLink | undefined {
    return this.#online.get(clientId);
  }

  /** Whether a client id is connected. */
  isOnline(clientId: string): boolean {
    return this.#online.has(clientId);
  }

  /** The links of every connected client. */
  links(): IterableIterator<ClientLink> {
    return this.#online.values();
  }

  /**
   * Whether a client that passed the connect hooks may take up the session
   * of its client id: with `sessionOwnerChange` "refuse", a session made
   * under another user name refuses it (0x87).
   *
   * @returns A refusal, or `undefined` to go ahead.
   */
  checkOwner(client: ClientInfo): RefusalCode | undefined {
    const session = this.#sessions.get(client.clientId);
    if (
      session === undefined || session.username === client.username ||
      this.#context.options.sessionOwnerChange !== "refuse"
    ) return undefined;
    this.#context.logger.warn("session belongs to another user", {
      client_id: client.clientId,
      username: client.username,
      remote: client.remoteAddress,
    });
    return ReasonCode.NotAuthorized;
  }

  /**
   * Asks other nodes to let go of a client id before it binds here;
   * `undefined` when nothing needs waiting for (one node).
   */
  takeOver(clientId: string): Promise<void> | undefined {
    if (this.#online.has(clientId)) return undefined;
    return this.#context.bus.takeOver(clientId);
  }

  /**
   * Binds an accepted client to its session: takes over a connection with
   * the same client id [MQTT-3.1.4-2], resumes or replaces the stored
   * session [MQTT-3.1.2-4..6], and cancels a will still waiting for its
   * delay [MQTT-3.1.3-9].
   *
   * @returns The session and whether it was there before; `undefined`, and
   * nothing changed, when the client needs a new session and `maxSessions`
   * are kept already (resuming or replacing one is always allowed).
   */
  attach(
    link: ClientLink,
    client: ClientInfo,
    options: AttachOptions,
  ): { session: Session; present: boolean } | undefined {
    const context = this.#context;
    const clientId = client.clientId;
    if (
      !this.#sessions.has(clientId) &&
      this.#sessions.size >= context.options.maxSessions
    ) {
      return undefined;
    }
    const previous = this.#online.get(clientId);
    if (previous !== undefined && previous !== link) {
      context.logger.info("client taken over", {
        client_id: clientId,
        remote: previous.client?.remoteAddress,
      });
      // Detaches synchronously; the old will is published.
      this.#closeQuietly(previous, new Error("Session taken over"), {
        reasonCode: ReasonCode.SessionTakenOver,
        endReason: "taken_over",
      });
    }
    this.#pendingWills.delete(clientId);
    this.#online.set(clientId, link);
    let session = this.#sessions.get(clientId);
    let present = false;
    // With sessionOwnerChange "clean", another user's session is not
    // taken up: it ends and a new one starts.
    if (
      session !== undefined &&
      (client.clean || session.username !== client.username)
    ) {
      this.#terminate(session, previous ? "taken_over" : "normal");
      session = undefined;
    }
    const now = context.now();
    if (session === undefined) {
      session = new Session(clientId, context.sessionContext, {
        maxQueuedMessages: context.options.maxQueuedMessages,
        maxQueuedBytes: context.options.maxQueuedBytes,
        expiryInterval: options.expiryInterval,
      });
      this.#sessions.set(clientId, session);
      context.metrics.sessionCreated();
    } else {
      present = true;
      session.expiryInterval = options.expiryInterval;
    }
    session.inflightLimit = Math.min(
      context.options.maxInflight,
      options.receiveMaximum ?? 65535,
    );
    session.client = client;
    session.will = options.will === undefined
      ? undefined
      : storedWill(clientId, options.will, now);
    session.disconnectedAt = undefined;
    this.#save(session);
    context.metrics.clientConnected();
    return { session, present };
  }

  /**
   * Unbinds a closing connection from its session. The session ends now if
   * its expiry interval is 0, else it waits offline; the will is published
   * (now, or after its delay) when asked.
   */
  detach(link: ClientLink, session: Session, options: DetachOptions): void {
    const context = this.#context;
    const clientId = session.clientId;
    const now = context.now();
    if (this.#online.get(clientId) === link) this.#online.delete(clientId);
    context.metrics.clientDisconnected();
    if (session.output !== link) return;
    session.detach(now);
    const will = session.will;
    session.will = undefined;
    if (will !== undefined && options.publishWill) {
      const client = session.client!;
      const message = willMessage(will, now);
      if (will.delayInterval > 0 && session.expiryInterval > 0) {
        const dueAt = now +
          Math.min(will.delayInterval, session.expiryInterval) * 1000;
        this.#pendingWills.set(clientId, { client, message, dueAt });
        session.will = { ...will, dueAt };
      } else {
        context.publishWill(client, message);
      }
    }
    if (
      session.expiryInterval === 0 && this.#sessions.get(clientId) === session
    ) {
      this.#terminate(session, options.endReason ?? "normal");
      return;
    }
    this.#save(session);
  }

  /** Writes a session's record, or the whole session when newly kept. */
  #save(session: Session): void {
    const store = this.#context.store;
    if (session.expiryInterval === 0) {
      if (session.stored) {
        // It ends with its connection now: nothing of it is kept.
        session.unstore();
        store.deleteSession(session.clientId);
      }
      return;
    }
    if (session.stored) store.saveSession(session.record());
    else session.storeAll();
  }

  /** Closes a link without waiting; a failure is logged. */
  #closeQuietly(link: ClientLink, error: Error, options: CloseOptions): void {
    link.close(error, options).catch((failure: unknown) => {
      this.#context.logger.error("connection not closed cleanly", {
        client_id: link.client?.clientId,
        reason: error.message,
        error: failure instanceof Error ? failure.message : String(failure),
      });
    });
  }

  /**
   * Ends this node's connection of a client id, for a takeover by another
   * node of the cluster. With a store the nodes share (`loadSession`), the
   * session leaves this node's memory as well, to be read by the other
   * node; resolves once what it wrote is durable.
   */
  release(clientId: string): Promise<void> | undefined {
    const link = this.#online.get(clientId);
    if (link !== undefined) {
      this.#closeQuietly(link, new Error("Session taken over"), {
        reasonCode: ReasonCode.SessionTakenOver,
        endReason: "taken_over",
      });
    }
    const store = this.#context.store;
    if (store.loadSession === undefined) return undefined;
    const session = this.#sessions.get(clientId);
    if (session !== undefined && session.output === undefined) {
      // Kept in the store as it is: nothing of it is deleted or reported.
      this.#sessions.delete(clientId);
      this.#pendingWills.delete(clientId);
      session.stored = false;
      this.#context.subscriptions.removeAll(session);
    }
    return store.flush();
  }

  /**
   * Gets a client id ready to bind here: other nodes let go of it
   * (`takeOver`), and with a store the nodes share, its session is read
   * from the store when this node does not hold it.
   */
  claim(clientId: string): Promise<void> | undefined {
    const taken = this.takeOver(clientId);
    if (this.#context.store.loadSession === undefined) return taken;
    if (taken === undefined) return this.#loadShared(clientId);
    return taken.then(() => this.#loadShared(clientId));
  }

  #loadShared(clientId: string): Promise<void> | undefined {
    if (this.#sessions.has(clientId)) return undefined;
    const read = this.#context.store.loadSession!(clientId);
    const take = (stored: StoredSession | undefined): void => {
      if (stored === undefined || this.#sessions.has(clientId)) return;
      this.restore(stored, this.#context.now());
      this.restored();
    };
    if (read instanceof Promise) return read.then(take);
    take(read);
    return undefined;
  }

  /**
   * Takes in the sessions of a node that is gone, offline, as after a
   * crash: the wills of its clients go out (now, or after their delay).
   */
  adopt(sessions: readonly StoredSession[], now: number): void {
    for (const stored of sessions) {
      if (this.#sessions.has(stored.session.clientId)) continue;
      this.restore(stored, now);
    }
    this.restored();
  }

  /**
   * Ends a session: drops its subscriptions and queue, forgets it in the
   * store, tells the hooks. A will waiting for its delay goes out now.
   */
  terminate(session: Session, reason: SessionTerminatedReason): void {
    this.#terminate(session, reason);
  }

  #terminate(session: Session, reason: SessionTerminatedReason): void {
    const context = this.#context;
    if (this.#sessions.get(session.clientId) !== session) return;
    this.#sessions.delete(session.clientId);
    // [MQTT-3.1.3-9] A will waiting for its delay goes out when the session
    // ends first.
    const will = this.#pendingWills.get(session.clientId);
    if (will !== undefined) {
      this.#pendingWills.delete(session.clientId);
      context.publishWill(will.client, will.message);
    }
    context.subscriptions.removeAll(session);
    // What was still queued goes with the session: "expired" when the
    // session expired, "session_ended" when it ended otherwise. (Before the
    // store forgets it: what it kept alone is read back to be reported.)
    session.discard(reason === "expired" ? "expired" : "session_ended");
    if (session.stored) {
      context.store.deleteSession(session.clientId);
      session.stored = false;
    }
    context.metrics.sessionTerminated(reason);
    context.sessionTerminated(session.clientId, reason);
  }

  /**
   * Housekeeping: publishes delayed wills that are due and ends sessions
   * offline for longer than their expiry interval.
   */
  sweep(now: number): void {
    for (const [clientId, pending] of this.#pendingWills) {
      if (pending.dueAt <= now) {
        this.#pendingWills.delete(clientId);
        const session = this.#sessions.get(clientId);
        if (session !== undefined) {
          session.will = undefined;
          this.#save(session);
        }
        this.#context.publishWill(pending.client, pending.message);
      }
    }
    this.#sessions.forEach((session) => {
      if (
        session.output === undefined &&
        session.disconnectedAt !== undefined &&
        session.expiryInterval !== 0xffffffff &&
        now - session.disconnectedAt >= session.expiryInterval * 1000
      ) {
        this.#terminate(session, "expired");
      }
    });
  }

  /**
   * Puts back a session read from the store, offline. A client that was
   * connected when the store last heard of it went without DISCONNECT: it
   * counts as gone now, and its will waits for its delay or goes out with
   * {@linkcode SessionRegistry.restored}. Its subscriptions go back into
   * the index.
   */
  restore(stored: StoredSession, now: number): void {
    const context = this.#context;
    const record = stored.session;
    const session = new Session(record.clientId, context.sessionContext, {
      maxQueuedMessages: context.options.maxQueuedMessages,
      maxQueuedBytes: context.options.maxQueuedBytes,
      expiryInterval: record.expiryInterval,
      createdAt: record.createdAt,
    });
    session.restore(stored);
    // What the delivery checks and the will's publish check are asked with
    // until the client connects again.
    const client = restoredClient(record.clientId, record.username);
    session.client = client;
    session.disconnectedAt = record.disconnectedAt ?? now;
    this.#sessions.set(record.clientId, session);
    for (const [filter, subscription] of stored.subscriptions) {
      context.subscriptions.restore(session, filter, subscription);
    }
    const will = record.will;
    if (will === undefined) return;
    if (will.dueAt !== undefined) {
      this.#pendingWills.set(record.clientId, {
        client,
        message: willMessage(will, will.dueAt),
        dueAt: will.dueAt,
      });
      return;
    }
    const message = willMessage(will, now);
    if (will.delayInterval > 0 && session.expiryInterval > 0) {
      const dueAt = now +
        Math.min(will.delayInterval, session.expiryInterval) * 1000;
      this.#pendingWills.set(record.clientId, { client, message, dueAt });
      session.will = { ...will, dueAt };
      context.store.saveSession(session.record());
    } else {
      session.will = undefined;
      context.store.saveSession(session.record());
      // Published by `restored`, once every session is back: a store gives
      // sessions in any order, and a subscriber read after this session
      // must get the will too.
      this.#restoredWills.push({ client, message, dueAt: now });
    }
  }

  /**
   * Publishes the wills that {@linkcode SessionRegistry.restore} found due
   * at once; called when every stored session has been restored.
   */
  restored(): void {
    const wills = this.#restoredWills;
    this.#restoredWills = [];
    for (const { client, message } of wills) {
      this.#context.publishWill(client, message);
    }
  }
}

/**
 * The client of a session read from the store, as the hooks see it until
 * it connects again: its client id and user name; where it came from is no
 * longer known.
 */
function restoredClient(
  clientId: string,
  username: string | undefined,
): ClientInfo {
  return {
    clientId,
    username,
    remoteAddress: "",
    localAddress: "",
    transport: "stream",
    listener: "",
    protocolVersion: 5,
    clean: false,
    keepAlive: 0,
  };
}
