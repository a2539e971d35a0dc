/**
 * RFC 6455 framing, server side: reads client frames in place and encodes
 * server frames.
 *
 * @module
 */

/** Close codes this server sends. */
export const CloseCode = {
  Normal: 1000,
  GoingAway: 1001,
  ProtocolError: 1002,
  UnsupportedData: 1003,
  MessageTooBig: 1009,
} as const;
/** A close code from {@linkcode CloseCode}. */
export type CloseCode = typeof CloseCode[keyof typeof CloseCode];

/** A WebSocket protocol breach by the peer; the close code to send it. */
export class WebSocketError extends Error {
  /** Close code to send. */
  readonly code: CloseCode;
  constructor(code: CloseCode, message: string) {
    super(message);
    this.name = "WebSocketError";
    this.code = code;
  }
}

/** A control frame received whole. */
export interface ControlFrame {
  /** 0x8 close, 0x9 ping, 0xa pong. */
  readonly opcode: 0x8 | 0x9 | 0xa;
  readonly payload: Uint8Array;
}

const OP_CONTINUATION = 0x0;
const OP_TEXT = 0x1;
const OP_BINARY = 0x2;
const OP_CLOSE = 0x8;
const OP_PING = 0x9;
const OP_PONG = 0xa;

/**
 * Decodes the client's frames from a byte stream, chunk by chunk. Payload
 * bytes of binary messages are unmasked and moved to the front of the chunk
 * they came in, so no copy of a message is ever held; control frames are
 * collected (they are at most 125 bytes) and returned whole.
 */
export class FrameReader {
  readonly #maxMessage: number;
  readonly #head = new Uint8Array(14);
  #headLength = 0;
  readonly #mask = new Uint8Array(4);
  #maskAt = 0;
  #opcode = 0;
  #fin = false;
  /** Payload bytes of the current frame not read yet. */
  #remaining = 0;
  /** Whether a frame's payload is being read (its head is complete). */
  #inPayload = false;
  /** Whether a fragmented binary message is in progress. */
  #inMessage = false;
  #messageBytes = 0;
  /** Set once a message passed the cap: the next read fails. */
  #tooBig = false;
  #control: Uint8Array | undefined;
  #controlLength = 0;

  /**
   * @param maxMessage Largest binary message accepted, in bytes. The bytes
   * of a larger one are passed on up to the cap (so the MQTT decoder sees
   * the packet header and can refuse the packet with its own reason code),
   * then reading fails with close code 1009.
   */
  constructor(maxMessage: number) {
    this.#maxMessage = maxMessage;
  }

  /**
   * Decodes `chunk[0, length)`: the payload bytes of binary frames are
   * unmasked and moved to the front of `chunk`.
   *
   * @returns The count of payload bytes now at the front of `chunk`.
   * @throws {WebSocketError} If the peer breaks the protocol.
   */
  read(
    chunk: Uint8Array,
    length: number,
    onControl: (frame: ControlFrame) => void,
  ): number {
    this.check();
    let at = 0;
    let out = 0;
    while (at < length) {
      if (!this.#inPayload) {
        at = this.#readHead(chunk, at, length);
        if (!this.#inPayload) continue;
        if (this.#remaining > 0) continue;
      } else {
        let take = Math.min(this.#remaining, length - at);
        const mask = this.#mask;
        let m = this.#maskAt;
        if (this.#control === undefined) {
          const room = this.#maxMessage - this.#messageBytes;
          if (take > room) {
            // Past the cap: pass on what fits, fail on the next read.
            take = room;
            this.#tooBig = true;
          }
          this.#messageBytes += take;
          for (let i = 0; i < take; i++) {
            chunk[out + i] = chunk[at + i]! ^ mask[m]!;
            m = (m + 1) & 3;
          }
          out += take;
          if (this.#tooBig) return out;
        } else {
          const control = this.#control;
          for (let i = 0; i < take; i++) {
            control[this.#controlLength + i] = chunk[at + i]! ^ mask[m]!;
            m = (m + 1) & 3;
          }
          this.#controlLength += take;
        }
        this.#maskAt = m;
        at += take;
        this.#remaining -= take;
        if (this.#remaining > 0) continue;
      }
      // The frame is complete.
      this.#inPayload = false;
      if (this.#control !== undefined) {
        const payload = this.#control.subarray(0, this.#controlLength);
        this.#control = undefined;
        onControl({ opcode: this.#opcode as 0x8 | 0x9 | 0xa, payload });
      } else if (this.#fin) {
        this.#inMessage = false;
        this.#messageBytes = 0;
      }
    }
    return out;
  }

  /**
   * Fails if the last read passed the message cap; call before waiting for
   * more bytes, which may never come.
   *
   * @throws {WebSocketError} Close code 1009, once the cap was passed.
   */
  check(): void {
    if (this.#tooBig) throw tooBig(this.#maxMessage);
  }

  /** Gathers frame head bytes from `chunk[at, length)`; returns the new `at`. */
  #readHead(chunk: Uint8Array, at: number, length: number): number {
    const head = this.#head;
    while (at < length) {
      head[this.#headLength++] = chunk[at++]!;
      if (this.#headLength < 2) continue;
      const b1 = head[1]!;
      const size = b1 & 0x7f;
      const needed = 2 + (size === 126 ? 2 : size === 127 ? 8 : 0) +
        (b1 & 0x80 ? 4 : 0);
      if (this.#headLength === 2) this.#checkFirstBytes(head[0]!, b1);
      if (this.#headLength < needed) continue;
      this.#startFrame(needed);
      break;
    }
    return at;
  }

  #checkFirstBytes(b0: number, b1: number): void {
    if (b0 & 0x70) {
      throw new WebSocketError(
        CloseCode.ProtocolError,
        "Cannot read a WebSocket frame: reserved bits are set",
      );
    }
    if (!(b1 & 0x80)) {
      throw new WebSocketError(
        CloseCode.ProtocolError,
        "Cannot read a WebSocket frame: client frames must be masked",
      );
    }
    const opcode = b0 & 0x0f;
    const fin = (b0 & 0x80) !== 0;
    switch (opcode) {
      case OP_TEXT:
        // [MQTT-6.0.0-1] MQTT travels in binary frames only.
        throw new WebSocketError(
          CloseCode.UnsupportedData,
          "Cannot accept a text WebSocket frame",
        );
      case OP_BINARY:
        if (this.#inMessage) {
          throw new WebSocketError(
            CloseCode.ProtocolError,
            "Cannot read a WebSocket frame: a new message inside a fragmented one",
          );
        }
        break;
      case OP_CONTINUATION:
        if (!this.#inMessage) {
          throw new WebSocketError(
            CloseCode.ProtocolError,
            "Cannot read a WebSocket frame: continuation without a message",
          );
        }
        break;
      case OP_CLOSE:
      case OP_PING:
      case OP_PONG:
        if (!fin || (b1 & 0x7f) > 125) {
          throw new WebSocketError(
            CloseCode.ProtocolError,
            "Cannot read a WebSocket control frame: fragmented or longer than 125 bytes",
          );
        }
        break;
      default:
        throw new WebSocketError(
          CloseCode.ProtocolError,
          `Cannot read a WebSocket frame: unknown opcode ${opcode}`,
        );
    }
  }

  #startFrame(headLength: number): void {
    const head = this.#head;
    const b0 = head[0]!;
    const size7 = head[1]! & 0x7f;
    let size = size7;
    if (size7 === 126) {
      size = (head[2]! << 8) | head[3]!;
    } else if (size7 === 127) {
      const view = new DataView(head.buffer, 2, 8);
      const high = view.getUint32(0);
      size = high >= 0x200000 ? Infinity : high * 2 ** 32 + view.getUint32(4);
    }
    this.#mask.set(head.subarray(headLength - 4, headLength));
    this.#maskAt = 0;
    this.#headLength = 0;
    this.#opcode = b0 & 0x0f;
    this.#fin = (b0 & 0x80) !== 0;
    this.#remaining = size;
    this.#inPayload = true;
    if (this.#opcode >= OP_CLOSE) {
      this.#control = new Uint8Array(size);
      this.#controlLength = 0;
      return;
    }
    this.#inMessage = !this.#fin;
  }
}

function tooBig(max: number): WebSocketError {
  return new WebSocketError(
    CloseCode.MessageTooBig,
    `Cannot read a WebSocket message: it exceeds ${max} bytes`,
  );
}

/**
 * Encodes one unmasked server frame with its payload.
 *
 * @param opcode 0x2 binary, 0x8 close, 0x9 ping, 0xa pong.
 * @param payload The payload, copied after the head.
 * @returns The frame's bytes.
 */
export function encodeFrame(opcode: number, payload: Uint8Array): Uint8Array {
  const n = payload.length;
  const headLength = n < 126 ? 2 : n < 65536 ? 4 : 10;
  const frame = new Uint8Array(headLength + n);
  frame[0] = 0x80 | opcode;
  if (n < 126) {
    frame[1] = n;
  } else if (n < 65536) {
    frame[1] = 126;
    frame[2] = n >> 8;
    frame[3] = n & 0xff;
  } else {
    frame[1] = 127;
    const view = new DataView(frame.buffer, 2, 8);
    view.setUint32(0, Math.floor(n / 2 ** 32));
    view.setUint32(4, n >>> 0);
  }
  frame.set(payload, headLength);
  return frame;
}

/** A close frame's payload: the code, then an optional reason. */
export function closePayload(code: number, reason = ""): Uint8Array {
  const text = new TextEncoder().encode(reason).subarray(0, 123);
  const payload = new Uint8Array(2 + text.length);
  payload[0] = code >> 8;
  payload[1] = code & 0xff;
  payload.set(text, 2);
  return payload;
}
