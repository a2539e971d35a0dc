/**
 * The JSON shapes the API answers with, built from the server's summaries.
 *
 * @module
 */

import type { Message } from "../message.ts";
import type {
  ClientSummary,
  SessionSummary,
  SubscriptionSummary,
} from "../server/summaries.ts";

/** A client, connected or (through its persistent session) offline. */
export interface ClientView {
  clientId: string;
  connected: boolean;
  username: string | null;
  protocolVersion: number | null;
  transport: string | null;
  listener: string | null;
  remoteAddress: string | null;
  localAddress: string | null;
  keepAlive: number | null;
  cleanSession: boolean | null;
  sessionExpiryInterval: number | null;
  connectedAt: string | null;
  disconnectedAt: string | null;
  inflight: number;
  inflightLimit: number | null;
  queued: number;
  queueLimit: number | null;
  subscriptions: number;
  bytesIn: number | null;
  bytesOut: number | null;
  packetsIn: number | null;
  packetsOut: number | null;
  messagesIn: number | null;
  messagesOut: number | null;
  messagesDropped: number | null;
}

function iso(ms: number | undefined): string | null {
  return ms === undefined ? null : new Date(ms).toISOString();
}

/** The view of a connected client. */
export function connectedClientView(
  c: ClientSummary,
  session: SessionSummary | undefined,
): ClientView {
  return {
    clientId: c.clientId,
    connected: true,
    username: c.username ?? null,
    protocolVersion: c.protocolVersion,
    transport: c.transport,
    listener: c.listener,
    remoteAddress: c.remoteAddress,
    localAddress: c.localAddress,
    keepAlive: c.keepAlive,
    cleanSession: c.clean,
    sessionExpiryInterval: session?.expiryInterval ?? null,
    connectedAt: iso(c.connectedAt),
    disconnectedAt: null,
    inflight: c.inflight,
    inflightLimit: c.inflightLimit,
    queued: c.queued,
    queueLimit: c.queueLimit,
    subscriptions: c.subscriptions,
    bytesIn: c.bytesIn,
    bytesOut: c.bytesOut,
    packetsIn: c.packetsIn,
    packetsOut: c.packetsOut,
    messagesIn: c.messagesIn,
    messagesOut: c.messagesOut,
    messagesDropped: c.messagesDropped,
  };
}

/**
 * The view of an offline client: what its session knows (the user name its
 * client last connected with). What only the connection knew (addresses,
 * traffic) is `null`.
 */
export function offlineClientView(s: SessionSummary): ClientView {
  return {
    clientId: s.clientId,
    connected: false,
    username: s.username ?? null,
    protocolVersion: null,
    transport: null,
    listener: null,
    remoteAddress: null,
    localAddress: null,
    keepAlive: null,
    cleanSession: null,
    sessionExpiryInterval: s.expiryInterval,
    connectedAt: null,
    disconnectedAt: iso(s.disconnectedAt),
    inflight: s.inflight,
    inflightLimit: null,
    queued: s.queued,
    queueLimit: s.queueLimit,
    subscriptions: s.subscriptions.length,
    bytesIn: null,
    bytesOut: null,
    packetsIn: null,
    packetsOut: null,
    messagesIn: null,
    messagesOut: null,
    messagesDropped: null,
  };
}

/** A subscription with its options spelled out. */
export interface SubscriptionView {
  clientId: string;
  topicFilter: string;
  qos: number;
  noLocal: boolean;
  retainAsPublished: boolean;
  retainHandling: number;
  shareName: string | null;
  subscriptionId: number | null;
}

/** The view of a subscription. */
export function subscriptionView(
  s: Omit<SubscriptionSummary, "clientId">,
  clientId: string,
): SubscriptionView {
  return {
    clientId,
    topicFilter: s.topicFilter,
    qos: s.qos,
    noLocal: s.noLocal ?? false,
    retainAsPublished: s.retainAsPublished ?? false,
    retainHandling: s.retainHandling ?? 0,
    shareName: s.shareName ?? null,
    subscriptionId: s.subscriptionId ?? null,
  };
}

/** A session with its queue state. */
export interface SessionView {
  clientId: string;
  connected: boolean;
  createdAt: string | null;
  disconnectedAt: string | null;
  expiryInterval: number;
  /** When an offline session will expire; `null` while online or never. */
  expiresAt: string | null;
  inflight: number;
  queued: number;
  queueLimit: number;
  subscriptions: SubscriptionView[];
}

/** The view of a session. */
export function sessionView(s: SessionSummary): SessionView {
  const expires =
    s.disconnectedAt !== undefined && s.expiryInterval < 0xffffffff
      ? s.disconnectedAt + s.expiryInterval * 1000
      : undefined;
  return {
    clientId: s.clientId,
    connected: s.connected,
    createdAt: iso(s.createdAt),
    disconnectedAt: iso(s.disconnectedAt),
    expiryInterval: s.expiryInterval,
    expiresAt: iso(expires),
    inflight: s.inflight,
    queued: s.queued,
    queueLimit: s.queueLimit,
    subscriptions: s.subscriptions.map((sub) =>
      subscriptionView(sub, s.clientId)
    ),
  };
}

/** A retained (or any) message with its payload as text or base64. */
export interface MessageView {
  topic: string;
  payload: string;
  encoding: "utf8" | "base64";
  qos: number;
  publisher: string | null;
  createdAt: string | null;
  expiresAt: string | null;
  contentType: string | null;
  responseTopic: string | null;
  userProperties: [string, string][];
}

const STRICT_UTF8 = new TextDecoder("utf-8", { fatal: true });

/** The view of a message. */
export function messageView(m: Message): MessageView {
  let payload: string, encoding: "utf8" | "base64";
  try {
    payload = STRICT_UTF8.decode(m.payload);
    encoding = "utf8";
  } catch {
    payload = m.payload.toBase64();
    encoding = "base64";
  }
  return {
    topic: m.topic,
    payload,
    encoding,
    qos: m.qos,
    publisher: m.publisher ?? null,
    createdAt: iso(m.createdAt),
    expiresAt: iso(m.expiresAt),
    contentType: m.properties?.contentType ?? null,
    responseTopic: m.properties?.responseTopic ?? null,
    userProperties: m.properties?.userProperties ?? [],
  };
}
