import type {
  ConnectPacket,
  PublishPacket,
  QoS,
  Subscription,
} from "../packets/types.ts";
import { ReasonCode } from "../packets/reason_code.ts";
import type {
  Awaitable,
  ClientInfo,
  ConnectionInfo,
  DeliverVerdict,
  Hooks,
  SubscribeGrant,
} from "./hooks.ts";
import type { Logger } from "./logger.ts";
import type { Message } from "./message.ts";

type Fn<A extends unknown[], R> = (...args: A) => R;

/** Runs a server's hooks in order; a throw is logged, never propagated. */
export class HookRunner {
  readonly #logger: Logger;
  readonly #accept: Fn<
    [ConnectionInfo],
    Awaitable<boolean | undefined | void>
  >[];
  readonly #connect: Fn<
    [ClientInfo, ConnectPacket, AbortSignal | undefined],
    Awaitable<number | undefined | void>
  >[];
  readonly #subscribe: Fn<
    [ClientInfo, Subscription],
    Awaitable<number | SubscribeGrant | undefined | void>
  >[];
  readonly #deliver: Fn<[ClientInfo, Message], DeliverVerdict>[];
  readonly #unsubscribe: Fn<
    [ClientInfo, string],
    Awaitable<number | undefined | void>
  >[];
  readonly #publish: Fn<
    [ClientInfo, PublishPacket],
    Awaitable<number | undefined | void>
  >[];
  readonly #transform: Fn<
    [ClientInfo | undefined, Message],
    Awaitable<Message | null | undefined | void>
  >[];
  readonly #hooks: Hooks[];
  /** Whether any hook observes deliveries (skipped on the hot path if not). */
  readonly observesDelivered: boolean;
  /** Whether any hook observes drops. */
  readonly observesDropped: boolean;

  constructor(hooks: Hooks[], logger: Logger) {
    this.#hooks = hooks;
    this.#logger = logger;
    this.#accept = pick(hooks, "checkAccept");
    this.#connect = pick(hooks, "checkConnect");
    this.#subscribe = pick(hooks, "checkSubscribe");
    this.#unsubscribe = pick(hooks, "checkUnsubscribe");
    this.#publish = pick(hooks, "checkPublish");
    this.#deliver = pick(hooks, "checkDeliver");
    this.#transform = pick(hooks, "transformMessage");
    this.observesDelivered = hooks.some((h) => h.onDelivered);
    this.observesDropped = hooks.some((h) => h.onMessageDropped);
  }

  get hasCheckPublish(): boolean {
    return this.#publish.length > 0;
  }

  get hasTransform(): boolean {
    return this.#transform.length > 0;
  }

  /** `false` if any hook refuses the connection. */
  checkAccept(info: ConnectionInfo): Awaitable<boolean> {
    const verdict = this.#decide(
      "checkAccept",
      this.#accept,
      [info],
      (r) => r === false ? ReasonCode.NotAuthorized : undefined,
    );
    return verdict instanceof Promise
      ? verdict.then((v) => v === undefined)
      : verdict === undefined;
  }

  /** Whether any hook decides on CONNECT. */
  get hasCheckConnect(): boolean {
    return this.#connect.length > 0;
  }

  /** `signal` aborts if the connection closes before the hooks answered. */
  checkConnect(
    client: ClientInfo,
    packet: ConnectPacket,
    signal?: AbortSignal,
  ): Awaitable<number | undefined> {
    return this.#decide(
      "checkConnect",
      this.#connect,
      [client, packet, signal],
      (r) => {
        const c = code(r);
        return c === 0 ? undefined : c;
      },
    );
  }

  /**
   * A granted QoS, a failure code (0x80+), or undefined for "as asked", and
   * whether a hook asked for each delivery to be checked.
   */
  checkSubscribe(
    client: ClientInfo,
    subscription: Subscription,
  ): Awaitable<SubscribeDecision> {
    let checkDeliver = false;
    const verdict = this.#decide(
      "checkSubscribe",
      this.#subscribe,
      [client, subscription],
      (r) => {
        if (typeof r === "object" && r !== null) {
          if (r.checkDeliver === true) checkDeliver = true;
          return undefined;
        }
        const c = code(r);
        // A granted QoS lower than asked narrows; later hooks still decide.
        return c === undefined || c >= 0x80 ? c : undefined;
      },
      (r) => {
        const c = typeof r === "object" && r !== null ? r.qos : code(r);
        return c !== undefined && c < 0x80 ? c as QoS : undefined;
      },
    );
    return verdict instanceof Promise
      ? verdict.then((code) => ({ code, checkDeliver }))
      : { code: verdict, checkDeliver };
  }

  /**
   * Whether the `checkDeliver` hooks let a message go to a client. A throw
   * or a promise refuses; both are logged.
   */
  mayDeliver(client: ClientInfo, message: Message): boolean {
    for (const check of this.#deliver) {
      let result;
      try {
        result = check(client, message);
      } catch (error) {
        this.#failed("checkDeliver", error);
        return false;
      }
      if (typeof result === "object" && result !== null) {
        const answer = result as unknown;
        if (answer instanceof Promise) {
          answer.catch((error) => this.#failed("checkDeliver", error));
        }
        this.#failed(
          "checkDeliver",
          new TypeError(
            "Cannot use checkDeliver's answer: it must not be a promise",
          ),
        );
        return false;
      }
      if (typeof result === "number" && result >= 0x80) return false;
    }
    return true;
  }

  checkUnsubscribe(
    client: ClientInfo,
    topicFilter: string,
  ): Awaitable<number | undefined> {
    return this.#decide("checkUnsubscribe", this.#unsubscribe, [
      client,
      topicFilter,
    ], failure);
  }

  checkPublish(
    client: ClientInfo,
    packet: PublishPacket,
  ): Awaitable<number | undefined> {
    return this.#decide(
      "checkPublish",
      this.#publish,
      [client, packet],
      failure,
    );
  }

  /** The message to route, or null to drop it. */
  transformMessage(
    client: ClientInfo | undefined,
    message: Message,
  ): Awaitable<Message | null> {
    return this.#transformFrom(0, client, message);
  }

  #transformFrom(
    start: number,
    client: ClientInfo | undefined,
    message: Message,
  ): Awaitable<Message | null> {
    for (let i = start; i < this.#transform.length; i++) {
      let result;
      try {
        result = this.#transform[i]!(client, message);
      } catch (error) {
        this.#failed("transformMessage", error);
        return null;
      }
      if (result instanceof Promise) {
        return result.then(
          (r) => {
            if (r === null) return null;
            return this.#transformFrom(i + 1, client, r ?? message);
          },
          (error) => {
            this.#failed("transformMessage", error);
            return null;
          },
        );
      }
      if (result === null) return null;
      if (result !== undefined) message = result;
    }
    return message;
  }

  /**
   * Asks each hook in turn; `refusal` maps an answer to a refusal code or
   * undefined. `narrow`, if given, keeps the lowest QoS hooks granted.
   */
  #decide<A extends unknown[], R>(
    name: string,
    fns: Fn<A, Awaitable<R>>[],
    args: A,
    refusal: (r: R) => number | undefined,
    narrow?: (r: R) => QoS | undefined,
    start = 0,
    granted: number | undefined = undefined,
  ): Awaitable<number | undefined> {
    for (let i = start; i < fns.length; i++) {
      let result;
      try {
        result = fns[i]!(...args);
      } catch (error) {
        this.#failed(name, error);
        return ReasonCode.UnspecifiedError;
      }
      if (result instanceof Promise) {
        return result.then(
          (r) => {
            const refused = refusal(r);
            if (refused !== undefined) return refused;
            const g = narrow?.(r);
            const next = g === undefined ? granted : min(granted, g);
            return this.#decide(name, fns, args, refusal, narrow, i + 1, next);
          },
          (error) => {
            this.#failed(name, error);
            return ReasonCode.UnspecifiedError;
          },
        );
      }
      const refused = refusal(result);
      if (refused !== undefined) return refused;
      const g = narrow?.(result);
      if (g !== undefined) granted = min(granted, g);
    }
    return granted;
  }

  /** Calls every `on` hook of that name; errors are logged, never thrown. */
  notify<K extends OnHookName>(
    name: K,
    ...args: Parameters<NonNullable<Hooks[K]>>
  ): void {
    for (const hook of this.#hooks) {
      const f = hook[name] as ((...a: unknown[]) => unknown) | undefined;
      if (f === undefined) continue;
      try {
        const r = f.apply(hook, args);
        if (r instanceof Promise) r.catch((e) => this.#failed(name, e));
      } catch (error) {
        this.#failed(name, error);
      }
    }
  }

  /** Calls every `on` hook of that name and waits for them. */
  async notifyAndWait<K extends OnHookName>(
    name: K,
    ...args: Parameters<NonNullable<Hooks[K]>>
  ): Promise<void> {
    for (const hook of this.#hooks) {
      const f = hook[name] as ((...a: unknown[]) => unknown) | undefined;
      if (f === undefined) continue;
      try {
        await f.apply(hook, args);
      } catch (error) {
        this.#failed(name, error);
      }
    }
  }

  #failed(name: string, error: unknown): void {
    this.#logger.error("hook failed", { hook: name, error });
  }
}

/** What the subscribe hooks decided on one filter. */
export interface SubscribeDecision {
  /** A granted QoS, a failure code (0x80+), or undefined for "as asked". */
  readonly code: number | undefined;
  /** Whether each message bound to the subscription is to be checked. */
  readonly checkDeliver: boolean;
}

/** Names of the observing hooks. */
export type OnHookName =
  | "onConnected"
  | "onSessionCreated"
  | "onSessionResumed"
  | "onSessionTerminated"
  | "onSubscribed"
  | "onUnsubscribed"
  | "onDelivered"
  | "onMessageDropped"
  | "onClosed"
  | "onStop";

/** The members of that name, bound to their hooks objects. */
function pick<K extends keyof Hooks>(
  hooks: Hooks[],
  name: K,
): NonNullable<Hooks[K]>[] {
  return hooks.flatMap((h) => {
    const f = h[name] as ((...a: unknown[]) => unknown) | undefined;
    return typeof f === "function"
      ? [f.bind(h) as unknown as NonNullable<Hooks[K]>]
      : [];
  });
}

function code(r: unknown): number | undefined {
  return typeof r === "number" ? r : undefined;
}

/** A failure reason code (0x80 and above), or undefined. */
function failure(r: unknown): number | undefined {
  return typeof r === "number" && r >= 0x80 ? r : undefined;
}

function min(a: number | undefined, b: number): number {
  return a === undefined || b < a ? b : a;
}
