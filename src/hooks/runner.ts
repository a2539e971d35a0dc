import type {
  ConnectPacket,
  PublishPacket,
  QoS,
  Subscription,
} from "../../packets/types.ts";
import {
  ConnackReturnCode,
  ReasonCode,
  type RefusalCode,
} from "../../packets/reason_code.ts";
import type {
  Awaitable,
  ClientInfo,
  ConnectionInfo,
  ConnectVerdict,
  DeliverVerdict,
  Hooks,
  SubscribeVerdict,
  Verdict,
} from "./hooks.ts";
import { whenReady } from "../core/awaitable.ts";
import type { Logger } from "../observe/logger.ts";
import type { Message } from "../message.ts";

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
    ConnectVerdict
  >[];
  readonly #subscribe: Fn<[ClientInfo, Subscription], SubscribeVerdict>[];
  readonly #deliver: Fn<[ClientInfo, Message], DeliverVerdict>[];
  readonly #unsubscribe: Fn<[ClientInfo, string], Verdict>[];
  readonly #publish: Fn<[ClientInfo, PublishPacket], Verdict>[];
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

  /** Whether any hook decides on accepting a connection. */
  get hasCheckAccept(): boolean {
    return this.#accept.length > 0;
  }

  /** `false` if any hook refuses the connection. */
  checkAccept(info: ConnectionInfo): Awaitable<boolean> {
    const verdict = this.#decide(
      "checkAccept",
      this.#accept,
      [info],
      (r) => r === false ? ReasonCode.NotAuthorized : undefined,
    );
    return whenReady(verdict, isUndefined);
  }

  /** Whether any hook decides on CONNECT. */
  get hasCheckConnect(): boolean {
    return this.#connect.length > 0;
  }

  /**
   * A refusal code, or undefined to accept. A 3.1.1 return code a hook
   * answered comes back as the matching 5.0 code, which the CONNACK to a
   * 3.1.1 client maps back to the same return code.
   * `signal` aborts if the connection closes before the hooks answered.
   */
  checkConnect(
    client: ClientInfo,
    packet: ConnectPacket,
    signal?: AbortSignal,
  ): Awaitable<RefusalCode | undefined> {
    return this.#decide(
      "checkConnect",
      this.#connect,
      [client, packet, signal],
      connectRefusal,
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
        const answer: unknown = r;
        if (isGrant(answer)) {
          if (answer.checkDeliver === true) checkDeliver = true;
          return undefined;
        }
        // A granted QoS lower than asked narrows; later hooks still decide.
        if (answer === undefined || isQoS(answer)) return undefined;
        if (isRefusalCode(answer)) return answer;
        throw badAnswer(
          "checkSubscribe",
          answer,
          "a QoS (0, 1, 2), a grant object, a reason code of 0x80 and above, or undefined",
        );
      },
      (r) => {
        const answer: unknown = r;
        if (isGrant(answer)) return answer.qos;
        return isQoS(answer) ? answer : undefined;
      },
    );
    // Read once the hooks answered: an async one may set it meanwhile.
    return whenReady(verdict, (code) => ({ code, checkDeliver }));
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
      const answer: unknown = result;
      if (answer === undefined || answer === 0) continue;
      if (!isRefusalCode(answer)) {
        this.#failed(
          "checkDeliver",
          badAnswer(
            "checkDeliver",
            answer,
            "a reason code of 0x80 and above, or undefined",
          ),
        );
      }
      return false;
    }
    return true;
  }

  /** A refusal code that keeps the subscription, or undefined. */
  checkUnsubscribe(
    client: ClientInfo,
    topicFilter: string,
  ): Awaitable<RefusalCode | undefined> {
    return this.#decide("checkUnsubscribe", this.#unsubscribe, [
      client,
      topicFilter,
    ], (r) => refusal("checkUnsubscribe", r));
  }

  /** A refusal code for the PUBLISH, or undefined to route it. */
  checkPublish(
    client: ClientInfo,
    packet: PublishPacket,
  ): Awaitable<RefusalCode | undefined> {
    return this.#decide(
      "checkPublish",
      this.#publish,
      [client, packet],
      (r) => refusal("checkPublish", r),
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
   * undefined, and throws on an answer it does not understand, which is
   * then logged and refuses. `narrow`, if given, keeps the lowest QoS hooks
   * granted.
   */
  #decide<A extends unknown[], R, G extends QoS = never>(
    name: string,
    fns: Fn<A, Awaitable<R>>[],
    args: A,
    refusal: (r: R) => RefusalCode | undefined,
    narrow?: (r: R) => G | undefined,
    start = 0,
    granted: G | undefined = undefined,
  ): Awaitable<NoInfer<G> | RefusalCode | undefined> {
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
            const refused = this.#refusal(name, refusal, r);
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
      const refused = this.#refusal(name, refusal, result);
      if (refused !== undefined) return refused;
      const g = narrow?.(result);
      if (g !== undefined) granted = min(granted, g);
    }
    return granted;
  }

  /** What `refusal` makes of an answer; one it cannot use is logged and refuses. */
  #refusal<R>(
    name: string,
    refusal: (r: R) => RefusalCode | undefined,
    answer: R,
  ): RefusalCode | undefined {
    try {
      return refusal(answer);
    } catch (error) {
      this.#failed(name, error);
      return ReasonCode.UnspecifiedError;
    }
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
  readonly code: QoS | RefusalCode | undefined;
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

/** The reason codes of 0x80 and above: the answers that refuse. */
const REFUSAL_CODES: ReadonlySet<unknown> = new Set(
  Object.values(ReasonCode).filter((c) => c >= 0x80),
);

/** The 5.0 CONNACK reason code for each 3.1.1 refusing return code. */
const FROM_CONNACK_RETURN_CODE: ReadonlyMap<unknown, RefusalCode> = new Map<
  number,
  RefusalCode
>([
  [
    ConnackReturnCode.UnacceptableProtocolVersion,
    ReasonCode.UnsupportedProtocolVersion,
  ],
  [ConnackReturnCode.IdentifierRejected, ReasonCode.ClientIdentifierNotValid],
  [ConnackReturnCode.ServerUnavailable, ReasonCode.ServerUnavailable],
  [ConnackReturnCode.BadUserNameOrPassword, ReasonCode.BadUserNameOrPassword],
  [ConnackReturnCode.NotAuthorized, ReasonCode.NotAuthorized],
]);

function isUndefined(answer: unknown): boolean {
  return answer === undefined;
}

function isRefusalCode(answer: unknown): answer is RefusalCode {
  return REFUSAL_CODES.has(answer);
}

function isQoS(answer: unknown): answer is QoS {
  return answer === 0 || answer === 1 || answer === 2;
}

function isGrant(
  answer: unknown,
): answer is { qos?: QoS; checkDeliver?: boolean } {
  if (typeof answer !== "object" || answer === null) return false;
  const { qos, checkDeliver } = answer as Record<string, unknown>;
  return (qos === undefined || isQoS(qos)) &&
    (checkDeliver === undefined || typeof checkDeliver === "boolean");
}

/** The refusal in an answer of `checkPublish` or `checkUnsubscribe`. */
function refusal(hook: string, answer: unknown): RefusalCode | undefined {
  // 0 is Success: a JavaScript hook that answers it means "go ahead".
  if (answer === undefined || answer === 0) return undefined;
  if (isRefusalCode(answer)) return answer;
  throw badAnswer(
    hook,
    answer,
    "a reason code of 0x80 and above, or undefined",
  );
}

/** The refusal in an answer of `checkConnect`, as a 5.0 reason code. */
function connectRefusal(answer: unknown): RefusalCode | undefined {
  if (answer === undefined || answer === 0) return undefined;
  if (isRefusalCode(answer)) return answer;
  const code = FROM_CONNACK_RETURN_CODE.get(answer);
  if (code !== undefined) return code;
  throw badAnswer(
    "checkConnect",
    answer,
    "a reason code of 0x80 and above, a 3.1.1 return code from 1 to 5, or undefined",
  );
}

/** The error logged for an answer a hook may not give. */
function badAnswer(hook: string, answer: unknown, expected: string): TypeError {
  return new TypeError(
    `Cannot use ${hook}'s answer: ${
      describe(answer)
    } is not ${expected}; refused with unspecified_error (0x80)`,
  );
}

function describe(answer: unknown): string {
  if (typeof answer === "number" && Number.isInteger(answer) && answer >= 0) {
    return `${answer} (0x${answer.toString(16).padStart(2, "0")})`;
  }
  if (typeof answer === "object" && answer !== null) {
    return Array.isArray(answer) ? "an array" : "an object with bad fields";
  }
  return typeof answer === "string" ? JSON.stringify(answer) : String(answer);
}

function min<G extends QoS>(a: G | undefined, b: G): G {
  return a === undefined || b < a ? b : a;
}
