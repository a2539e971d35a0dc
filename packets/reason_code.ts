/**
 * MQTT 5.0 reason codes and the MQTT 3.1.1 CONNACK return codes.
 *
 * @module
 */

import {
  CONNACK_REASON_CODES,
  DISCONNECT_REASON_CODES,
  PUBACK_REASON_CODES,
  PUBREL_REASON_CODES,
  SUBACK_REASON_CODES,
  UNSUBACK_REASON_CODES,
} from "./_reason_code_sets.ts";

/**
 * The MQTT 5.0 reason codes, by name. Several names share a value, as in the
 * specification (0x00 is Success, Normal disconnection and Granted QoS 0).
 *
 * @example Refuse a subscription
 * ```ts
 * import { ReasonCode } from "@gmqtt/broker/packets";
 * import { strictEqual } from "node:assert/strict";
 *
 * strictEqual(ReasonCode.NotAuthorized, 0x87);
 * ```
 */
export const ReasonCode = {
  Success: 0x00,
  NormalDisconnection: 0x00,
  GrantedQoS0: 0x00,
  GrantedQoS1: 0x01,
  GrantedQoS2: 0x02,
  DisconnectWithWillMessage: 0x04,
  NoMatchingSubscribers: 0x10,
  NoSubscriptionExisted: 0x11,
  ContinueAuthentication: 0x18,
  ReAuthenticate: 0x19,
  UnspecifiedError: 0x80,
  MalformedPacket: 0x81,
  ProtocolError: 0x82,
  ImplementationSpecificError: 0x83,
  UnsupportedProtocolVersion: 0x84,
  ClientIdentifierNotValid: 0x85,
  BadUserNameOrPassword: 0x86,
  NotAuthorized: 0x87,
  ServerUnavailable: 0x88,
  ServerBusy: 0x89,
  Banned: 0x8a,
  ServerShuttingDown: 0x8b,
  BadAuthenticationMethod: 0x8c,
  KeepAliveTimeout: 0x8d,
  SessionTakenOver: 0x8e,
  TopicFilterInvalid: 0x8f,
  TopicNameInvalid: 0x90,
  PacketIdentifierInUse: 0x91,
  PacketIdentifierNotFound: 0x92,
  ReceiveMaximumExceeded: 0x93,
  TopicAliasInvalid: 0x94,
  PacketTooLarge: 0x95,
  MessageRateTooHigh: 0x96,
  QuotaExceeded: 0x97,
  AdministrativeAction: 0x98,
  PayloadFormatInvalid: 0x99,
  RetainNotSupported: 0x9a,
  QoSNotSupported: 0x9b,
  UseAnotherServer: 0x9c,
  ServerMoved: 0x9d,
  SharedSubscriptionsNotSupported: 0x9e,
  ConnectionRateExceeded: 0x9f,
  MaximumConnectTime: 0xa0,
  SubscriptionIdentifiersNotSupported: 0xa1,
  WildcardSubscriptionsNotSupported: 0xa2,
} as const;

/** One of the MQTT 5.0 reason code values. */
export type ReasonCode = typeof ReasonCode[keyof typeof ReasonCode];

/**
 * The MQTT 5.0 reason codes of 0x80 and above: the failures, which a hook
 * answers to refuse an action.
 *
 * @example Refuse with a reason code
 * ```ts
 * import { ReasonCode, type RefusalCode } from "@gmqtt/broker/packets";
 * import { strictEqual } from "node:assert/strict";
 *
 * const refusal: RefusalCode = ReasonCode.NotAuthorized;
 * strictEqual(refusal, 0x87);
 * ```
 */
export type RefusalCode = Exclude<
  ReasonCode,
  // The codes below 0x80: success values, which never refuse anything.
  0x00 | 0x01 | 0x02 | 0x04 | 0x10 | 0x11 | 0x18 | 0x19
>;

/** Names of reason codes for logs; the first name of a shared value wins. */
const REASON_CODE_NAMES: ReadonlyMap<number, string> = new Map(
  Object.entries(ReasonCode).reverse().map(([name, code]) => [
    code,
    name.replace(/QoS/g, "Qos").replace(/([a-z0-9])([A-Z])/g, "$1_$2")
      .replace(/([a-z])([0-9])/g, "$1_$2").toLowerCase(),
  ]),
);

/**
 * Names a reason code for people: its name in snake case and its value in
 * hex, as logs write it.
 *
 * @example Name a refusal
 * ```ts
 * import { reasonCodeName } from "@gmqtt/broker/packets";
 * import { strictEqual } from "node:assert/strict";
 *
 * strictEqual(reasonCodeName(0x87), "not_authorized (0x87)");
 * strictEqual(reasonCodeName(0x00), "success (0x00)");
 * strictEqual(reasonCodeName(0x05), "unknown (0x05)");
 * ```
 * @param code A reason code (or a 3.1.1 return code, named by its 5.0 value).
 * @returns The name and the hex value, such as `not_authorized (0x87)`.
 */
export function reasonCodeName(code: number): string {
  const hex = `0x${code.toString(16).padStart(2, "0")}`;
  return `${REASON_CODE_NAMES.get(code) ?? "unknown"} (${hex})`;
}

/** The MQTT 3.1 and 3.1.1 CONNACK return codes, by name. */
export const ConnackReturnCode = {
  Accepted: 0x00,
  UnacceptableProtocolVersion: 0x01,
  IdentifierRejected: 0x02,
  ServerUnavailable: 0x03,
  BadUserNameOrPassword: 0x04,
  NotAuthorized: 0x05,
} as const;

/** One of the MQTT 3.1.1 CONNACK return code values. */
export type ConnackReturnCode =
  typeof ConnackReturnCode[keyof typeof ConnackReturnCode];

/**
 * The MQTT 3.1.1 CONNACK return codes that refuse a connection: 1 to 5,
 * every one but Accepted.
 */
export type ConnackRefusalCode = Exclude<ConnackReturnCode, 0x00>;

/**
 * Maps an MQTT 5.0 CONNACK reason code to the closest MQTT 3.1.1 return code.
 *
 * @example Map "Bad user name or password"
 * ```ts
 * import { ReasonCode, toConnackReturnCode } from "@gmqtt/broker/packets";
 * import { strictEqual } from "node:assert/strict";
 *
 * strictEqual(toConnackReturnCode(ReasonCode.BadUserNameOrPassword), 0x04);
 * ```
 * @param reasonCode A 5.0 CONNACK reason code, or already a 3.1.1 code (0-5).
 * @returns The 3.1.1 return code.
 */
export function toConnackReturnCode(reasonCode: number): ConnackReturnCode {
  switch (reasonCode) {
    case 0x00:
    case 0x01:
    case 0x02:
    case 0x03:
    case 0x04:
    case 0x05:
      return reasonCode;
    case ReasonCode.UnsupportedProtocolVersion:
      return ConnackReturnCode.UnacceptableProtocolVersion;
    case ReasonCode.ClientIdentifierNotValid:
      return ConnackReturnCode.IdentifierRejected;
    case ReasonCode.BadUserNameOrPassword:
    case ReasonCode.BadAuthenticationMethod:
      return ConnackReturnCode.BadUserNameOrPassword;
    case ReasonCode.NotAuthorized:
    case ReasonCode.Banned:
      return ConnackReturnCode.NotAuthorized;
    default:
      return ConnackReturnCode.ServerUnavailable;
  }
}

/** The packet types whose MQTT 5.0 reason code a server picks. */
export type ReasonCodePacketType =
  | "connack"
  | "puback"
  | "pubrec"
  | "pubrel"
  | "pubcomp"
  | "suback"
  | "unsuback"
  | "disconnect";

/**
 * Maps a reason code to one that an MQTT 5.0 packet of the given type may
 * carry, so that a code chosen elsewhere (a hook's verdict, an error's code)
 * never makes the encoder throw. An allowed code is kept. Otherwise:
 * DISCONNECT takes 0x87 Not authorized for the authentication codes (0x86,
 * 0x8A, 0x8C), 0x82 Protocol Error for any other error code and 0x00 for a
 * code under 0x80; CONNACK takes 0x88 Server unavailable for 0x8B and 0x80
 * Unspecified error for anything else; PUBREL and PUBCOMP take 0x92 for an
 * error code and 0x00 otherwise; PUBACK, PUBREC, SUBACK and UNSUBACK take
 * 0x80 Unspecified error.
 *
 * @example Map a code DISCONNECT does not allow
 * ```ts
 * import { allowedReasonCode, ReasonCode } from "@gmqtt/broker/packets";
 * import { strictEqual } from "node:assert/strict";
 *
 * strictEqual(
 *   allowedReasonCode("disconnect", ReasonCode.UnsupportedProtocolVersion),
 *   ReasonCode.ProtocolError,
 * );
 * strictEqual(allowedReasonCode("connack", ReasonCode.NotAuthorized), 0x87);
 * ```
 * @param type The packet the code goes in.
 * @param reasonCode Any reason code.
 * @returns A reason code that packet may carry.
 */
export function allowedReasonCode(
  type: ReasonCodePacketType,
  reasonCode: number,
): number {
  switch (type) {
    case "disconnect":
      if (DISCONNECT_REASON_CODES.has(reasonCode)) return reasonCode;
      if (
        reasonCode === ReasonCode.BadUserNameOrPassword ||
        reasonCode === ReasonCode.Banned ||
        reasonCode === ReasonCode.BadAuthenticationMethod
      ) {
        return ReasonCode.NotAuthorized;
      }
      return reasonCode >= 0x80
        ? ReasonCode.ProtocolError
        : ReasonCode.NormalDisconnection;
    case "connack":
      if (CONNACK_REASON_CODES.has(reasonCode)) return reasonCode;
      return reasonCode === ReasonCode.ServerShuttingDown
        ? ReasonCode.ServerUnavailable
        : ReasonCode.UnspecifiedError;
    case "pubrel":
    case "pubcomp":
      if (PUBREL_REASON_CODES.has(reasonCode)) return reasonCode;
      return reasonCode >= 0x80
        ? ReasonCode.PacketIdentifierNotFound
        : ReasonCode.Success;
    case "puback":
    case "pubrec":
      return PUBACK_REASON_CODES.has(reasonCode)
        ? reasonCode
        : ReasonCode.UnspecifiedError;
    case "suback":
      return SUBACK_REASON_CODES.has(reasonCode)
        ? reasonCode
        : ReasonCode.UnspecifiedError;
    case "unsuback":
      return UNSUBACK_REASON_CODES.has(reasonCode)
        ? reasonCode
        : ReasonCode.UnspecifiedError;
    default: {
      const unknown: never = type;
      throw new TypeError(`Cannot map a reason code for ${String(unknown)}`);
    }
  }
}
