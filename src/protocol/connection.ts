/**
 * The MQTT protocol for one client connection: CONNECT, the PUBLISH flows,
 * SUBSCRIBE and UNSUBSCRIBE, keep-alive pings and the end of the connection.
 * Its bytes go through a {@linkcode Channel}.
 *
 * @module
 */

import { MqttError, ProtocolError } from "../../packets/errors.ts";
import {
  ReasonCode,
  reasonCodeName,
  type RefusalCode,
  toConnackReturnCode,
} from "../../packets/reason_code.ts";
import type {
  AckPacket,
  ConnackPacket,
  ConnectPacket,
  Packet,
  Properties,
  ProtocolVersion,
  PublishPacket,
  Will,
} from "../../packets/types.ts";
import type { CloseOptions } from "../core/ports.ts";
import { messageFromPublish } from "../core/messages.ts";
import {
  type ConnectionHub,
  type HubConnection,
  packetIdOffset,
} from "./hub.ts";
import { Channel, type PacketHandler } from "./channel.ts";
import { TopicAliases } from "./_topic_aliases.ts";
import { OutboundTopicAliases } from "./_topic_aliases_out.ts";
import { connackProperties } from "./_connack.ts";
import { closeReason } from "../transport/close_reason.ts";
import { handleSubscribe, handleUnsubscribe } from "./_subscribe.ts";
import { legalReply } from "./_replies.ts";
import { type Awaitable, whenOpen } from "../core/awaitable.ts";
import { isSysTopic, topicLevels } from "../core/topic_levels.ts";
import type { ClientInfo, ConnectionInfo } from "../types.ts";
import { type Message, ownProperties } from "../message.ts";
import type { Delivery, Session } from "../core/session.ts";
import type { Transport } from "../transport/transport.ts";

type MutableClientInfo = { -readonly [K in keyof ClientInfo]: ClientInfo[K] };

/**
 * QoS 1 and 2 PUBLISHes whose acknowledgements, and PUBRELs, wait for one
 * commit of the store (and for the group before them), in the order they
 * came.
 */
interface AckGroup {
  /** What the store gave to wait for; `undefined`: the group before only. */
  readonly flushed: Promise<void> | undefined;
  /** PUBLISHes to acknowledge, and packet ids to send PUBREL for. */
  readonly packets: (PublishPacket | number)[];
  readonly verdicts: (RefusalCode | undefined)[];
  /** Settles once the group is acknowledged or refused. */
  readonly done: Promise<void>;
}

/** `Connection` flag: close has begun. */
const CLOSING = 1;
/** `Connection` flag: closed, and its hooks were called. */
const CLOSED = 2;
/** `Connection` flag: not read until subscribers' queues have room. */
const PAUSED = 4;
/** `Connection` flag: a CONNECT waits for async connect hooks. */
const CONNECT_PENDING = 8;
/**
 * The Maximum Packet Size of a client that set none: above any packet
 * (and a small integer, which V8 keeps without a number object).
 */
const NO_SIZE_LIMIT = 2 ** 30 - 1;

/** Counters of one connection. */
export interface ConnectionStats {
  bytesIn: number;
  bytesOut: number;
  packetsIn: number;
  packetsOut: number;
  messagesIn: number;
  messagesOut: number;
  messagesDropped: number;
}

/** The broker side of one client connection. */
export class Connection implements HubConnection, PacketHandler {
  readonly #channel: Channel;
  #messagesIn = 0;
  #messagesOut = 0;
  #messagesDropped = 0;
  /** When the connection was accepted, in server milliseconds. */
  readonly openedAt: number;
  /** Set once CONNECT was accepted. */
  client: ClientInfo | undefined;
  /** The session while the client is connected. */
  session: Session | undefined;
  /** Who waits for the end (see `closed`), made when asked for. */
  #whenClosed: { promise: Promise<void>; resolve: () => void } | undefined;
  /** `CLOSING`, `CLOSED`, `PAUSED` and `CONNECT_PENDING`, as bits. */
  #flags = 0;
  /** The last group of acknowledgements waiting for the store, if one is. */
  #acks: AckGroup | undefined;

  readonly #hub: ConnectionHub<Connection>;
  #will: Will | undefined;
  /** Topic aliases the client set (MQTT 5.0). */
  #aliases: TopicAliases | undefined;
  /** Topic aliases the server sets for this client (MQTT 5.0), if any. */
  #aliasesOut: OutboundTopicAliases | undefined;
  /** Largest packet the client takes (MQTT 5.0 Maximum Packet Size). */
  #maxPacketSizeOut = NO_SIZE_LIMIT;
  /** Aborts the connect hooks' signal if the connection closes first. */
  #connectAbort: AbortController | undefined;
  /** What the `checkAccept` hooks were given, if any were. */
  #acceptedInfo: ConnectionInfo | undefined;

  /**
   * Whether the connection is not read until subscribers' queues have room
   * for its message (`queueFull` "backpressure").
   */
  get paused(): boolean {
    return (this.#flags & PAUSED) !== 0;
  }

  /**
   * Whether a CONNECT arrived and waits for async connect hooks: the
   * connect timeout does not apply then, only its ceiling.
   */
  get connectPending(): boolean {
    return (this.#flags & CONNECT_PENDING) !== 0;
  }

  constructor(hub: ConnectionHub<Connection>, transport: Transport) {
    this.#hub = hub;
    this.#channel = new Channel(transport, hub);
    this.openedAt = hub.now();
    this.client = undefined;
    this.session = undefined;
  }

  /** The transport under the connection. */
  get transport(): Transport {
    return this.#channel.transport;
  }

  /** When anything was last read, in server milliseconds. */
  get lastActivity(): number {
    return this.#channel.lastActivity;
  }

  /** Lets go of memory kept for reuse while the connection is busy. */
  trim(): void {
    this.#channel.trim();
  }

  /** Whether only a CONNECT may come next. */
  get expectsConnect(): boolean {
    return this.client === undefined;
  }

  /** Resolves once the connection is closed and its hooks were called. */
  get closed(): Promise<void> {
    // Made when asked for: most connections never are.
    if ((this.#flags & CLOSED) !== 0) return Promise.resolve();
    if (this.#whenClosed === undefined) {
      let resolve!: () => void;
      const promise = new Promise<void>((r) => resolve = r);
      this.#whenClosed = { promise, resolve };
    }
    return this.#whenClosed.promise;
  }

  /** Marks the end, and tells who waits for it. */
  #setClosed(): void {
    this.#flags |= CLOSED;
    this.#whenClosed?.resolve();
    this.#whenClosed = undefined;
  }

  /** Protocol level of the connection (4 until CONNECT says otherwise). */
  get protocolVersion(): ProtocolVersion {
    return this.#channel.version;
  }

  /** Whether close has begun. */
  get isClosed(): boolean {
    return (this.#flags & CLOSING) !== 0;
  }

  get #isClosed(): boolean {
    return (this.#flags & CLOSING) !== 0;
  }

  /** Bytes written to the connection and not yet acknowledged by the OS. */
  get outputBytes(): number {
    return this.#channel.outputBytes;
  }

  /** The connection's traffic counters. */
  get stats(): ConnectionStats {
    return {
      bytesIn: this.#channel.bytesIn,
      bytesOut: this.#channel.bytesOut,
      packetsIn: this.#channel.packetsIn,
      packetsOut: this.#channel.packetsOut,
      messagesIn: this.#messagesIn,
      messagesOut: this.#messagesOut,
      messagesDropped: this.#messagesDropped,
    };
  }

  /**
   * Serves the connection until it ends; never throws. `closed` resolves
   * once it has ended.
   */
  run(): void {
    const hooks = this.#hub.hooks;
    let accepted: Awaitable<boolean> = true;
    if (hooks.hasCheckAccept) {
      // The same object goes to `onClosed` (a transport may make a new one
      // each time it is asked).
      this.#acceptedInfo = this.transport.info;
      accepted = hooks.checkAccept(this.#acceptedInfo);
    }
    if (accepted instanceof Promise) {
      accepted.then(
        (ok) => this.#serve(ok),
        (e: unknown) => this.readFailed(e),
      );
    } else {
      this.#serve(accepted);
    }
  }

  /** Reads the connection, or closes it if a hook refused it. */
  #serve(accepted: boolean): void {
    if (accepted) this.#channel.readPackets(this);
    else this.readEnded(this.#refused());
  }

  /** Closes the connection once reading has ended (see `PacketHandler`). */
  readEnded(error: Error | undefined): void {
    // Nothing thrown while answering an error may escape.
    try {
      if (error instanceof MqttError) this.#protocolError(error);
    } catch (e) {
      this.#internalError(e);
    }
    this.end(error);
  }

  /** Closes the connection after a failure of the server's own. */
  readFailed(e: unknown): void {
    const error = e instanceof Error ? e : new Error(String(e));
    if (!this.#isClosed) this.#internalError(error);
    this.end(error);
  }

  /** Logs an error of the broker's own while serving this connection. */
  #internalError(e: unknown): void {
    const error = e instanceof Error ? e : new Error(String(e));
    this.#hub.logger.error("internal error", {
      client_id: this.client?.clientId,
      remote: this.transport.info.remoteAddress,
      error: error.stack ?? error.message,
    });
  }

  #refused(): Error {
    this.#hub.logger.info("connection refused by hook", {
      remote: this.transport.info.remoteAddress,
    });
    return new Error("Connection refused by a checkAccept hook");
  }

  /** Takes a write failure: the connection is gone. */
  writeFailed(error: Error): void {
    if (!this.#isClosed) this.end(error);
  }

  /** Tells the peer what it did wrong, as its protocol version allows. */
  #protocolError(error: MqttError): void {
    this.#hub.logger.warn("protocol error", {
      client_id: this.client?.clientId,
      remote: this.transport.info.remoteAddress,
      reason: error.message,
    });
    if (this.client === undefined) {
      // A bad CONNECT: answer with a CONNACK where the protocol has a code.
      if (error.reasonCode === ReasonCode.UnsupportedProtocolVersion) {
        // [MQTT-3.1.2-2] 3.1.1 return code 1; 5.0 reason code 0x84.
        this.send({
          type: "connack",
          sessionPresent: false,
          reasonCode: this.#channel.version === 5 ? error.reasonCode : 0x01,
        });
      } else if (this.#channel.version === 5) {
        this.send({
          type: "connack",
          sessionPresent: false,
          reasonCode: error.reasonCode,
        });
      }
      return;
    }
    if (this.#channel.version === 5) {
      // [MQTT-4.13.1-1] 5.0 may say why before it closes.
      this.send({
        type: "disconnect",
        reasonCode: error.reasonCode,
        properties: { reasonString: error.message },
      });
    }
  }

  /** Handles one packet from the client. */
  handlePacket(packet: Packet): Promise<void> | undefined {
    if (this.#hub.logger.isEnabledFor("debug")) this.#dump("in", packet);
    if (packet.type === "connect") return this.#onConnect(packet);
    if (this.client === undefined) {
      // [MQTT-3.1.0-1] The first packet must be CONNECT.
      throw new ProtocolError(
        `Cannot accept ${packet.type.toUpperCase()}: CONNECT must come first`,
      );
    }
    switch (packet.type) {
      case "publish":
        return this.#onPublish(packet);
      case "puback":
      case "pubcomp":
        this.session?.complete(packet.packetId);
        return;
      case "pubrec":
        if (this.session?.received(packet.packetId)) {
          // Phase 2 is durable before the PUBREL goes: once the client has
          // it, the PUBLISH must not be sent again, even after a restart.
          this.#afterFlush(packet.packetId, undefined);
        } else if (this.#channel.version === 5) {
          this.send({
            type: "pubrel",
            packetId: packet.packetId,
            reasonCode: ReasonCode.PacketIdentifierNotFound,
          });
        }
        return;
      case "pubrel": {
        // [MQTT-4.3.3-12] Release the id and answer PUBCOMP, known or not.
        const known = this.session?.releaseIncoming(packet.packetId);
        this.send({
          type: "pubcomp",
          packetId: packet.packetId,
          ...(this.#channel.version === 5 && !known
            ? { reasonCode: ReasonCode.PacketIdentifierNotFound }
            : {}),
        });
        return;
      }
      case "subscribe":
        return handleSubscribe(this.#hub, this, packet);
      case "unsubscribe":
        return handleUnsubscribe(this.#hub, this, packet);
      case "pingreq":
        // [MQTT-3.12.4-1]
        this.send({ type: "pingresp" });
        return;
      case "disconnect":
        if (this.#channel.version === 5) {
          const expiry = packet.properties?.sessionExpiryInterval;
          if (expiry !== undefined && this.session !== undefined) {
            if (this.session.expiryInterval === 0 && expiry !== 0) {
              // [MQTT-3.14.2-2]
              throw new ProtocolError(
                "Cannot set a session expiry at DISCONNECT: it was 0 at CONNECT",
              );
            }
            this.session.expiryInterval = Math.min(
              expiry,
              this.#hub.options.maxSessionExpiryInterval,
            );
          }
          if (packet.reasonCode === ReasonCode.DisconnectWithWillMessage) {
            this.end(new Error("Client disconnected with its will"));
            return;
          }
        }
        // [MQTT-3.14.4-3] A DISCONNECT discards the will.
        this.#will = undefined;
        this.end(undefined);
        return;
      case "auth":
        throw new ProtocolError(
          "Cannot accept AUTH: no authentication method is in progress",
        );
      case "connack":
      case "suback":
      case "unsuback":
      case "pingresp":
        throw new ProtocolError(
          `Cannot accept ${packet.type.toUpperCase()} from a client`,
        );
      default: {
        const unknown: never = packet;
        throw new ProtocolError(`Cannot accept packet ${String(unknown)}`);
      }
    }
  }

  /**
   * Checks a CONNECT and asks the connect hooks; answers at once when they
   * answer at once, or returns a promise when one is async.
   */
  #onConnect(packet: ConnectPacket): Promise<void> | undefined {
    if (this.client !== undefined) {
      // [MQTT-3.1.0-2] A second CONNECT is a protocol violation.
      throw new ProtocolError("Cannot accept a second CONNECT");
    }
    const hub = this.#hub;
    const options = hub.options;
    this.#channel.version = packet.protocolVersion;
    const v5 = packet.protocolVersion === 5;
    const maximumPacketSize = packet.properties?.maximumPacketSize;
    if (maximumPacketSize !== undefined) {
      // [MQTT-3.2.2-19] It binds the CONNACK already.
      this.#maxPacketSizeOut = maximumPacketSize;
    }
    let clientId = packet.clientId;
    if (clientId === "") {
      // [MQTT-3.1.3-7] [MQTT-3.1.3-8] An empty id needs clean session in
      // 3.1.1; 3.1 does not allow it at all.
      if (
        !options.allowEmptyClientId || packet.protocolVersion === 3 ||
        (!packet.clean && !v5)
      ) {
        this.#refuse(ReasonCode.ClientIdentifierNotValid);
        return;
      }
      clientId = hub.newClientId();
    }
    let keepAlive = packet.keepAlive;
    if (
      options.maxKeepAlive > 0 &&
      (keepAlive === 0 || keepAlive > options.maxKeepAlive)
    ) {
      // 5.0 is told in the CONNACK (Server Keep Alive); 3.1 and 3.1.1 cannot
      // be told and are held to it all the same.
      keepAlive = options.maxKeepAlive;
    }
    const info = this.transport.info;
    const client: MutableClientInfo = {
      remoteAddress: info.remoteAddress,
      localAddress: info.localAddress,
      transport: info.transport,
      listener: info.listener,
      clientId,
      username: packet.username,
      protocolVersion: packet.protocolVersion,
      clean: packet.clean,
      keepAlive,
    };
    if (packet.will !== undefined) {
      const will = packet.will;
      if (topicLevels(will.topic) > options.maxTopicLevels) {
        this.#hub.logger.info("connection refused", {
          client_id: clientId,
          remote: info.remoteAddress,
          reason: `Will topic has more than ${options.maxTopicLevels} levels`,
        });
        if (v5) {
          this.#refuse(ReasonCode.TopicNameInvalid);
        } else {
          // 3.1.1 has no return code for it: close without CONNACK.
          this.end(
            new Error(
              `Connection refused: will topic has more than ${options.maxTopicLevels} levels`,
            ),
          );
        }
        return;
      }
      if (will.retain && !options.retainAvailable && v5) {
        this.#refuse(ReasonCode.RetainNotSupported);
        return;
      }
      // The will outlives the read buffer: copy its payload and properties.
      this.#will = {
        ...will,
        payload: will.payload.slice(),
        ...(will.properties !== undefined
          ? { properties: ownProperties(will.properties) }
          : {}),
      };
    }
    if (v5 && packet.properties?.authenticationMethod !== undefined) {
      // No extended authentication method is supported.
      this.#refuse(ReasonCode.BadAuthenticationMethod);
      return;
    }
    const abort = hub.hooks.hasCheckConnect ? new AbortController() : undefined;
    const verdict = hub.hooks.checkConnect(client, packet, abort?.signal);
    if (verdict instanceof Promise) {
      this.#connectAbort = abort;
      this.#flags |= CONNECT_PENDING;
      return verdict.then((v) => {
        this.#connectAbort = undefined;
        this.#flags &= ~CONNECT_PENDING;
        return this.#connected(
          packet,
          client,
          v ?? hub.core.sessions.checkOwner(client),
        );
      });
    }
    return this.#connected(
      packet,
      client,
      verdict ?? hub.core.sessions.checkOwner(client),
    );
  }

  /**
   * Accepts or refuses the client as the connect hooks decided. A session
   * kept in the store is durable before CONNACK says so: the connection is
   * not read until then.
   */
  #connected(
    packet: ConnectPacket,
    client: ClientInfo,
    verdict: RefusalCode | undefined,
  ): Promise<void> | undefined {
    if (this.#isClosed) return;
    const hub = this.#hub;
    const logger = hub.logger;
    if (verdict !== undefined) {
      this.#will = undefined;
      logger.info("connection refused", {
        client_id: client.clientId,
        username: packet.username,
        remote: client.remoteAddress,
        reason_code: reasonCodeName(verdict),
      });
      this.#refuse(verdict);
      return;
    }
    // In a cluster, another node lets go of the client id first.
    const claimed = hub.core.sessions.claim(client.clientId);
    if (claimed === undefined) return this.#attach(packet, client);
    return claimed.then(
      () => this.#isClosed ? undefined : this.#attach(packet, client),
      (error: unknown) => {
        if (this.#isClosed) return;
        this.#will = undefined;
        logger.warn("connection refused: session not claimed", {
          client_id: client.clientId,
          remote: client.remoteAddress,
          error: error instanceof Error ? error.message : String(error),
        });
        this.#refuse(ReasonCode.ServerUnavailable);
      },
    );
  }

  /** Binds an accepted client to its session, then answers CONNACK. */
  #attach(
    packet: ConnectPacket,
    client: ClientInfo,
  ): Promise<void> | undefined {
    const hub = this.#hub;
    const logger = hub.logger;
    const options = hub.options;
    const requestedExpiry = packet.properties?.sessionExpiryInterval ?? 0;
    const sessionExpiry = packet.protocolVersion === 5
      ? Math.min(requestedExpiry, options.maxSessionExpiryInterval)
      : packet.clean
      ? 0
      : options.maxSessionExpiryInterval;
    const attached = hub.core.sessions.attach(this, client, {
      expiryInterval: sessionExpiry,
      receiveMaximum: packet.properties?.receiveMaximum,
      will: this.#will,
    });
    if (attached === undefined) {
      // Past maxSessions: no new session.
      this.#will = undefined;
      logger.warn("connection refused: session limit reached", {
        client_id: client.clientId,
        remote: client.remoteAddress,
        max_sessions: options.maxSessions,
      });
      this.#refuse(ReasonCode.QuotaExceeded);
      return;
    }
    this.client = client;
    const aliasesOut = Math.min(
      packet.properties?.topicAliasMaximum ?? 0,
      options.topicAliasMaximumOut,
    );
    if (aliasesOut > 0 && packet.protocolVersion === 5) {
      // No more than the client's maximum [MQTT-3.3.2-11]. Aliases live as
      // long as the connection [MQTT-3.3.2-7]: a new connection starts with
      // none, resent messages included.
      this.#aliasesOut = new OutboundTopicAliases(aliasesOut);
    }
    const { session, present } = attached;
    this.session = session;
    const flushed = session.stored ? hub.core.flush() : undefined;
    if (flushed === undefined) {
      this.#accept(packet, client, sessionExpiry, present);
      return;
    }
    return flushed.then(
      () => {
        if (!this.#isClosed) {
          this.#accept(packet, client, sessionExpiry, present);
        }
      },
      (error: unknown) => {
        if (this.#isClosed) return;
        logger.warn("connection refused: session not stored", {
          client_id: client.clientId,
          remote: client.remoteAddress,
          error: error instanceof Error ? error.message : String(error),
        });
        // 5.0: Server unavailable (0x88); 3.1.1: Server unavailable (3).
        this.#refuse(ReasonCode.ServerUnavailable);
      },
    );
  }

  /** Sends CONNACK to an accepted client and starts its session. */
  #accept(
    packet: ConnectPacket,
    client: ClientInfo,
    sessionExpiry: number,
    present: boolean,
  ): void {
    const hub = this.#hub;
    const options = hub.options;
    const logger = hub.logger;
    const session = this.session!;
    const connack: ConnackPacket = {
      type: "connack",
      sessionPresent: present,
      reasonCode: 0,
    };
    if (packet.protocolVersion === 5) {
      connack.properties = connackProperties(
        options,
        packet,
        client,
        sessionExpiry,
      );
    }
    this.send(connack);
    if (logger.isEnabledFor("info")) {
      logger.info("client connected", {
        client_id: client.clientId,
        username: packet.username,
        remote: client.remoteAddress,
        protocol: packet.protocolVersion,
        clean: packet.clean,
        keep_alive: client.keepAlive,
      });
    }
    hub.hooks.notify("onConnected", client);
    hub.hooks.notify(
      present ? "onSessionResumed" : "onSessionCreated",
      client,
    );
    session.resume(this);
  }

  /** Sends a refusing CONNACK and closes. */
  #refuse(reasonCode: RefusalCode): void {
    this.send({
      type: "connack",
      sessionPresent: false,
      reasonCode: this.#channel.version === 5
        ? reasonCode
        : toConnackReturnCode(reasonCode),
    });
    this.end(new Error(`Connection refused: code ${reasonCode}`));
  }

  /**
   * `#published` as `whenOpen` calls it, made once per connection on its
   * first PUBLISH (most idle connections never send one).
   */
  #afterCheckPublish:
    | ((
      verdict: RefusalCode | undefined,
      packet: PublishPacket,
      message: Message,
    ) => Promise<void> | undefined)
    | undefined;

  #onPublish(packet: PublishPacket): Promise<void> | undefined {
    const hub = this.#hub;
    const session = this.session!;
    let topic = packet.topic;
    if (this.#channel.version === 5) {
      this.#aliases ??= new TopicAliases(hub.options.topicAliasMaximum);
      topic = this.#aliases.resolve(packet);
    }
    if (topicLevels(topic) > hub.options.maxTopicLevels) {
      // 3.1.1 closes; 5.0 says 0x90 first.
      throw new MqttError(
        ReasonCode.TopicNameInvalid,
        `Cannot accept a PUBLISH: its topic has more than ${hub.options.maxTopicLevels} levels`,
      );
    }
    if (packet.qos > hub.options.maxQoS && this.#channel.version === 5) {
      // [MQTT-3.2.2-11]
      throw new MqttError(
        ReasonCode.QoSNotSupported,
        `Cannot accept a QoS ${packet.qos} PUBLISH: the maximum is ${hub.options.maxQoS}`,
      );
    }
    if (
      packet.retain && !hub.options.retainAvailable &&
      this.#channel.version === 5
    ) {
      // [MQTT-3.3.1-8]
      throw new MqttError(
        ReasonCode.RetainNotSupported,
        "Cannot accept a retained PUBLISH: retain is not available",
      );
    }
    if (packet.qos === 2) {
      const unreleased = session.incomingQoS2;
      if (unreleased.has(packet.packetId!)) {
        // [MQTT-4.3.3-10] A resent QoS 2 PUBLISH is not delivered again.
        this.send({ type: "pubrec", packetId: packet.packetId! });
        return;
      }
      if (
        this.#channel.version === 5 &&
        unreleased.size >= hub.options.receiveMaximum
      ) {
        // [MQTT-3.3.4-9] More than the Receive Maximum the server gave.
        throw new MqttError(
          ReasonCode.ReceiveMaximumExceeded,
          `Cannot accept a QoS 2 PUBLISH: ${unreleased.size} are unreleased, the Receive Maximum is ${hub.options.receiveMaximum}`,
        );
      }
    }
    this.#messagesIn++;
    const client = this.client!;
    // The channel copied the payload out of its read buffer.
    const message = messageFromPublish(
      packet,
      topic,
      client.clientId,
      hub.now(),
      true,
    );
    if (isSysTopic(topic)) {
      // Only the server publishes under $SYS, whatever the ACL and hooks say.
      return this.#published(packet, message, ReasonCode.NotAuthorized);
    }
    const check = hub.hooks.hasCheckPublish
      ? hub.hooks.checkPublish(
        client,
        topic === packet.topic ? packet : {
          ...packet,
          topic,
        },
      )
      : undefined;
    // A hook may have closed the connection, even a synchronous one that
    // kicks its own client: the PUBLISH is then neither routed nor answered.
    this.#afterCheckPublish ??= (verdict, packet, message) =>
      this.#published(packet, message, verdict);
    return whenOpen(this, check, this.#afterCheckPublish, packet, message);
  }

  /** Routes or refuses a PUBLISH; called while the connection is open. */
  #published(
    packet: PublishPacket,
    message: Message,
    verdict: RefusalCode | undefined,
  ): Promise<void> | undefined {
    const hub = this.#hub;
    let routed: Promise<void> | undefined;
    if (verdict !== undefined) {
      hub.logger.info("publish refused", {
        client_id: this.client!.clientId,
        topic: message.topic,
        reason_code: reasonCodeName(verdict),
      });
      hub.core.router.dropped(undefined, message, "not_authorized");
    } else {
      // Pausable: with queueFull "backpressure", this connection is not read
      // (and the message not acknowledged) until full queues have room.
      routed = hub.core.router.publish(message, this.client, true);
    }
    if (routed === undefined) return this.#acknowledgeDurably(packet, verdict);
    // Not read meanwhile: its silence is the server's doing, not a lapsed
    // keep-alive.
    this.#flags |= PAUSED;
    return routed.then(() => {
      this.#flags &= ~PAUSED;
      return this.#acknowledgeDurably(packet, verdict);
    });
  }

  /**
   * Acknowledges a QoS 1 or 2 PUBLISH once what its routing wrote to the
   * store is durable: at once with a store in memory, whose `flush` has
   * nothing to wait for. The connection goes on reading meanwhile, so that
   * the PUBLISHes of one turn share one commit; the acknowledgements go out
   * in the order of the PUBLISHes [MQTT-4.6.0-2]. A store that cannot flush
   * refuses the PUBLISH (see `#notDurable`).
   */
  #acknowledgeDurably(
    packet: PublishPacket,
    verdict: RefusalCode | undefined,
  ): undefined {
    if (packet.qos === 0) return;
    if (packet.qos === 2 && verdict === undefined) {
      // Held until PUBREL [MQTT-4.3.3-10], and stored with the rest.
      this.session?.holdIncoming(packet.packetId!);
    }
    this.#afterFlush(packet, verdict);
  }

  /**
   * Sends an acknowledgement of a PUBLISH (a packet) or a PUBREL (a packet
   * id) once what the store holds for it is durable, after those still
   * waiting: at once when nothing waits.
   */
  #afterFlush(
    packet: PublishPacket | number,
    verdict: RefusalCode | undefined,
  ): void {
    const flushed = this.#hub.core.flush();
    const last = this.#acks;
    if (flushed === undefined && last === undefined) {
      this.#release(packet, verdict);
      return;
    }
    if (flushed !== undefined && last?.flushed === flushed) {
      // The packets of one turn wait for the same commit, as one group.
      last.packets.push(packet);
      last.verdicts.push(verdict);
      return;
    }
    // After the acknowledgements still waiting, whatever this one waits for.
    const wait = last === undefined
      ? flushed!
      : flushed === undefined
      ? last.done
      : last.done.then(() => flushed);
    const group: AckGroup = {
      flushed,
      packets: [packet],
      verdicts: [verdict],
      done: wait.then(
        () => {
          if (this.#acks === group) this.#acks = undefined;
          // Nothing follows the DISCONNECT of a connection closed meanwhile.
          if (this.#isClosed) return;
          for (let i = 0; i < group.packets.length; i++) {
            this.#release(group.packets[i]!, group.verdicts[i]);
          }
        },
        (error: unknown) => {
          if (this.#acks === group) this.#acks = undefined;
          for (const p of group.packets) this.#notDurable(p, error);
        },
      ),
    };
    this.#acks = group;
  }

  /** Sends what `#afterFlush` held: an acknowledgement, or a PUBREL. */
  #release(
    packet: PublishPacket | number,
    verdict: RefusalCode | undefined,
  ): void {
    if (typeof packet === "number") this.sendPubrel(packet);
    else this.#acknowledge(packet, verdict);
  }

  /**
   * Refuses a PUBLISH whose writes the store could not make durable: a 5.0
   * client is told 0x80 in its PUBACK or PUBREC; a 3.x client, which has no
   * way to hear it, is disconnected unacknowledged, so that it sends the
   * message again. Other clients are served as before.
   */
  #notDurable(packet: PublishPacket | number, error: unknown): void {
    if (this.#isClosed) return;
    const reason = error instanceof Error ? error.message : String(error);
    // A PUBREL is not sent while its phase is not durable: the connection
    // ends, and the session sends it when the client is back.
    if (typeof packet === "number" || this.#channel.version !== 5) {
      this.end(new Error(`Store failed: ${reason}`));
      return;
    }
    if (packet.qos === 2) this.session?.releaseIncoming(packet.packetId!);
    this.#acknowledge(packet, ReasonCode.UnspecifiedError);
  }

  /** Answers a client's QoS 1 or 2 PUBLISH, once it was routed or refused. */
  #acknowledge(packet: PublishPacket, verdict: number | undefined): void {
    const reply: AckPacket<"puback" | "pubrec"> = {
      type: packet.qos === 1 ? "puback" : "pubrec",
      packetId: packet.packetId!,
    };
    if (this.#channel.version === 5 && verdict !== undefined) {
      reply.reasonCode = verdict;
    }
    this.send(reply as Packet);
  }

  // -- output --------------------------------------------------------------

  /** Writes a PUBLISH for a delivery; false if the output buffer is full. */
  sendPublish(
    delivery: Delivery,
    packetId: number | undefined,
    dup: boolean,
  ): boolean {
    const hub = this.#hub;
    if (
      delivery.qos === 0 && this.outputBytes > hub.options.maxOutputBuffer
    ) {
      this.#messagesDropped++;
      return false;
    }
    if (this.#aliasesOut !== undefined) {
      return this.#sendAliasedPublish(delivery, packetId, dup);
    }
    const channel = this.#channel;
    const out = channel.output;
    const offset = out.length;
    const version = this.#channel.version;
    const properties = version === 5
      ? hub.outgoingProperties(delivery)
      : undefined;
    // The same message fanned out to many subscribers is encoded once; the
    // others copy those bytes and patch in their packet id.
    const shareable = properties === undefined && !dup;
    const encoded = shareable
      ? hub.encodedPublish(delivery, version)
      : undefined;
    if (encoded !== undefined) {
      out.writeBytes(encoded);
      if (packetId !== undefined) {
        out.setUint16(offset + packetIdOffset(encoded), packetId);
      }
    } else {
      out.write(publishPacket(delivery, packetId, dup, properties), version);
    }
    const length = out.length - offset;
    if (length > this.#maxPacketSizeOut) {
      this.#dropTooLarge(delivery, packetId, offset);
      return true;
    }
    if (shareable && encoded === undefined) {
      hub.shareEncodedPublish(delivery, version, out, offset, length);
    }
    this.#messagesOut++;
    hub.countMessageSent(delivery, length);
    if (hub.logger.isEnabledFor("debug")) {
      this.#dump("out", publishPacket(delivery, packetId, dup, properties));
    }
    channel.sent();
    return true;
  }

  /**
   * Writes a 5.0 PUBLISH with a topic alias where one is known or free:
   * the topic's first PUBLISH carries the topic and its new alias, later
   * ones an empty topic and the alias; aliases start at 1 [MQTT-3.3.2-8].
   * Such bytes are this client's own: they are not shared with other
   * subscribers.
   */
  #sendAliasedPublish(
    delivery: Delivery,
    packetId: number | undefined,
    dup: boolean,
  ): boolean {
    const hub = this.#hub;
    const aliases = this.#aliasesOut!;
    const topic = delivery.message.topic;
    const packet = publishPacket(
      delivery,
      packetId,
      dup,
      hub.outgoingProperties(delivery),
    );
    const known = aliases.known(topic);
    const alias = known ?? aliases.candidate(topic);
    const out = this.#channel.output;
    const offset = out.length;
    let length = 0;
    if (alias !== undefined) {
      packet.properties = { ...packet.properties, topicAlias: alias };
      if (known !== undefined) packet.topic = "";
      out.write(packet, 5);
      length = out.length - offset;
      if (length > this.#maxPacketSizeOut && known === undefined) {
        // The alias made it too large: the topic alone may still fit, and
        // the client never learns the alias.
        out.truncate(offset);
        delete packet.properties.topicAlias;
        if (Object.keys(packet.properties).length === 0) {
          delete packet.properties;
        }
      } else if (known === undefined) {
        aliases.assign(topic, alias);
      }
    }
    if (out.length === offset) {
      out.write(packet, 5);
      length = out.length - offset;
    }
    if (length > this.#maxPacketSizeOut) {
      this.#dropTooLarge(delivery, packetId, offset);
      return true;
    }
    this.#messagesOut++;
    hub.countMessageSent(delivery, length);
    if (hub.logger.isEnabledFor("debug")) this.#dump("out", packet);
    this.#channel.sent();
    return true;
  }

  /**
   * Takes back a PUBLISH just written at `offset` that is larger than the
   * client takes [MQTT-3.1.2-25]: it is dropped as "packet_too_large", and
   * its packet id freed.
   */
  #dropTooLarge(
    delivery: Delivery,
    packetId: number | undefined,
    offset: number,
  ): void {
    this.#channel.output.truncate(offset);
    this.#hub.core.router.dropped(
      this.client?.clientId,
      delivery.message,
      "packet_too_large",
    );
    if (packetId !== undefined) this.session?.complete(packetId);
  }

  /** Writes a PUBREL for an outgoing QoS 2 message. */
  sendPubrel(packetId: number): void {
    this.send({ type: "pubrel", packetId });
  }

  /**
   * Writes a packet to the client. A 5.0 packet is made legal first (reason
   * code, reason string, Maximum Packet Size); a packet that still cannot be
   * encoded is logged and not sent, never thrown to the caller.
   */
  send(packet: Packet): void {
    const legal = this.#channel.version === 5
      ? legalReply(packet, this.#maxPacketSizeOut)
      : packet;
    if (this.#hub.logger.isEnabledFor("debug")) this.#dump("out", legal);
    try {
      this.#channel.send(legal);
    } catch (e) {
      this.#internalError(e);
    }
  }

  /**
   * Resolves once the unsent output is at most half of `maxOutputBuffer`, or
   * the connection closes.
   */
  outputDrained(): Promise<void> {
    return this.#channel.outputDrained();
  }

  /**
   * Logs a packet at debug level; passwords are left out, payloads are
   * text when they are UTF-8 (base64 otherwise, with `payload_encoding`).
   * An outgoing one is logged when queued: the channel logs "packets
   * written" once its batch has been written.
   */
  #dump(direction: "in" | "out", packet: Packet): void {
    const fields: Record<string, unknown> = {
      client_id: this.client?.clientId,
      remote: this.transport.info.remoteAddress,
      ...packet,
    };
    if (packet.type === "connect") {
      if (packet.password !== undefined) fields.password = "(hidden)";
      if (packet.will !== undefined) {
        fields.will = { ...packet.will, ...payloadFields(packet.will.payload) };
      }
    } else if (packet.type === "publish") {
      Object.assign(fields, payloadFields(packet.payload));
    }
    this.#hub.logger.debug(
      direction === "in" ? "packet received" : "packet queued",
      fields,
    );
  }

  // -- closing -------------------------------------------------------------

  /**
   * Closes the connection: the session is detached at once (the will is
   * published unless the client sent DISCONNECT), pending output is written
   * for up to a second, then the transport closes and `onClosed` runs.
   * Idempotent; resolves when closed, and never rejects.
   */
  close(
    error: Error | undefined,
    options?: CloseOptions,
  ): Promise<void> {
    this.end(error, options);
    return this.closed;
  }

  /**
   * Starts closing the connection, as {@linkcode Connection.close} does,
   * without waiting for the end.
   */
  end(error: Error | undefined, options?: CloseOptions): void {
    if (this.#isClosed) return;
    this.#flags |= CLOSING;
    const hub = this.#hub;
    this.#connectAbort?.abort(new Error("Connection closed"));
    this.#connectAbort = undefined;
    this.#channel.stop();
    if (
      options?.reasonCode !== undefined && this.#channel.version === 5 &&
      this.client
    ) {
      this.send({ type: "disconnect", reasonCode: options.reasonCode });
    }
    const will = this.#will;
    this.#will = undefined;
    if (this.client !== undefined && this.session !== undefined) {
      hub.core.sessions.detach(this, this.session, {
        publishWill: error !== undefined && will !== undefined,
        endReason: options?.endReason,
      });
    }
    // A connection the server ends lets its client read why before it
    // closes; after a DISCONNECT from the client, it closes at once (and
    // the channel knows when the peer has gone already).
    const linger = options?.reasonCode !== undefined || error !== undefined;
    this.#finish(error, linger, options).catch((e: unknown) => {
      this.#hub.logger.error("internal error", {
        client_id: this.client?.clientId,
        remote: this.transport.info.remoteAddress,
        error: e instanceof Error ? e.stack ?? e.message : String(e),
      });
      this.#setClosed();
    });
  }

  async #finish(
    error: Error | undefined,
    linger: boolean,
    options: CloseOptions | undefined,
  ): Promise<void> {
    await this.#channel.close({ linger });
    const hub = this.#hub;
    hub.connectionClosed(this);
    if (this.client !== undefined) {
      const { reason, detail } = closeReason(
        error,
        options?.reasonCode,
        options?.endReason,
      );
      hub.logger.info("client disconnected", {
        client_id: this.client.clientId,
        remote: this.transport.info.remoteAddress,
        reason,
        detail,
      });
    }
    hub.hooks.notify(
      "onClosed",
      this.#acceptedInfo ?? this.transport.info,
      this.client,
      error,
    );
    this.#setClosed();
  }
}

/** A payload for a log line: text if it is UTF-8, base64 otherwise. */
function payloadFields(
  payload: Uint8Array,
): { payload: string | Uint8Array; payload_encoding?: "base64" } {
  try {
    return {
      payload: new TextDecoder("utf-8", { fatal: true }).decode(payload),
    };
  } catch {
    // The logger writes bytes as base64.
    return { payload, payload_encoding: "base64" };
  }
}

/** The PUBLISH that carries a delivery. */
function publishPacket(
  delivery: Delivery,
  packetId: number | undefined,
  dup: boolean,
  properties: Properties | undefined,
): PublishPacket {
  const { message } = delivery;
  const packet: PublishPacket = {
    type: "publish",
    topic: message.topic,
    payload: message.payload,
    qos: delivery.qos,
    retain: delivery.retain,
    dup,
  };
  if (packetId !== undefined) packet.packetId = packetId;
  if (properties !== undefined) packet.properties = properties;
  return packet;
}
