/**
 * The reason codes each MQTT packet type may carry, as MQTT 5.0 lists them
 * (and the 3.1.1 SUBACK return codes). Private to `packets/`: the codec
 * checks against them, `allowedReasonCode` maps onto them.
 *
 * @module
 */

/** The reason codes a 5.0 CONNACK may carry. */
export const CONNACK_REASON_CODES: ReadonlySet<number> = new Set([
  0x00,
  0x80,
  0x81,
  0x82,
  0x83,
  0x84,
  0x85,
  0x86,
  0x87,
  0x88,
  0x89,
  0x8a,
  0x8c,
  0x90,
  0x95,
  0x97,
  0x99,
  0x9a,
  0x9b,
  0x9c,
  0x9d,
  0x9f,
]);

/** The reason codes a 5.0 PUBACK or PUBREC may carry. */
export const PUBACK_REASON_CODES: ReadonlySet<number> = new Set([
  0x00,
  0x10,
  0x80,
  0x83,
  0x87,
  0x90,
  0x91,
  0x97,
  0x99,
]);

/** The reason codes a 5.0 PUBREL or PUBCOMP may carry. */
export const PUBREL_REASON_CODES: ReadonlySet<number> = new Set([0x00, 0x92]);

/** The reason codes a 5.0 DISCONNECT may carry (§3.14.2.1). */
export const DISCONNECT_REASON_CODES: ReadonlySet<number> = new Set([
  0x00,
  0x04,
  0x80,
  0x81,
  0x82,
  0x83,
  0x87,
  0x89,
  0x8b,
  0x8d,
  0x8e,
  0x8f,
  0x90,
  0x93,
  0x94,
  0x95,
  0x96,
  0x97,
  0x98,
  0x99,
  0x9a,
  0x9b,
  0x9c,
  0x9d,
  0x9e,
  0x9f,
  0xa0,
  0xa1,
  0xa2,
]);

/** The reason codes a 5.0 AUTH may carry. */
export const AUTH_REASON_CODES: ReadonlySet<number> = new Set([
  0x00,
  0x18,
  0x19,
]);

/** The reason codes a 5.0 SUBACK may carry. */
export const SUBACK_REASON_CODES: ReadonlySet<number> = new Set([
  0x00,
  0x01,
  0x02,
  0x80,
  0x83,
  0x87,
  0x8f,
  0x91,
  0x97,
  0x9e,
  0xa1,
  0xa2,
]);

/** The return codes a 3.1.1 SUBACK may carry [MQTT-3.9.3-2]. */
export const SUBACK_RETURN_CODES: ReadonlySet<number> = new Set([
  0x00,
  0x01,
  0x02,
  0x80,
]);

/** The reason codes a 5.0 UNSUBACK may carry. */
export const UNSUBACK_REASON_CODES: ReadonlySet<number> = new Set([
  0x00,
  0x11,
  0x80,
  0x83,
  0x87,
  0x8f,
  0x91,
]);
