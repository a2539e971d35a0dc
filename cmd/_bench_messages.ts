/**
 * The message scenarios of `cmd/bench.ts` (pub, fanin, fanout, pairs, subs): who
 * subscribes to what, how publishers are paced by their window, and what is
 * counted.
 *
 * @module
 */

import type { QoS } from "../packets/mod.ts";
import { BenchClient, PublishTemplate } from "./_bench_client.ts";
import {
  clientOptions,
  closeAll,
  emptyResult,
  ErrorLog,
  forEachLimited,
  hold,
  linkFor,
  reach,
  runId,
  SETUP_CONCURRENCY,
  sleep,
  startProgress,
} from "./_bench_common.ts";
import type { BenchResult, Resolved } from "./_bench_options.ts";
import {
  Histogram,
  readStamp,
  SequenceTracker,
  spread,
  type Stamp,
  writeStamp,
} from "./_bench_stats.ts";

/** Messages queued by a publisher between two awaits. */
const BATCH = 256;

/** One publisher's counters and its window. */
class Publisher {
  readonly index: number;
  readonly client: BenchClient;
  /** Its messages, one per topic, published in turn. */
  readonly templates: readonly PublishTemplate[];
  /** Subscribers each of its messages goes to. */
  readonly fanout: number;
  sent = 0;
  acked = 0;
  /**
   * Deliveries settled, summed over subscribers: up to the highest sequence
   * number each subscriber got. A gap is a message lost (or late: it still
   * counts as delivered when it comes), and leaves the window at once.
   */
  settled = 0;
  /** Acks and deliveries given up on after a stall. */
  ackCredit = 0;
  deliveryCredit = 0;
  wake: (() => void) | undefined;

  constructor(
    index: number,
    client: BenchClient,
    templates: readonly PublishTemplate[],
    fanout: number,
  ) {
    this.index = index;
    this.client = client;
    this.templates = templates;
    this.fanout = fanout;
  }

  /** Messages in the window: unacknowledged, or not delivered everywhere. */
  outstanding(qos: QoS): number {
    const acks = qos > 0 ? this.sent - this.acked - this.ackCredit : 0;
    const deliveries = this.fanout > 0
      ? Math.ceil(
        (this.sent * this.fanout - this.settled - this.deliveryCredit) /
          this.fanout,
      )
      : 0;
    return Math.max(acks, deliveries);
  }

  /** Forgets what it waits for, so a lost message does not stop it. */
  forgive(): void {
    this.ackCredit = this.sent - this.acked;
    this.deliveryCredit = this.sent * this.fanout - this.settled;
  }
}

interface Plan {
  publishers: number;
  subscribers: number;
  /** Topics each publisher publishes to, in turn. */
  topicsOf: (publisher: number) => string[];
  /** Filters each subscriber subscribes to. */
  filtersOf: (subscriber: number) => string[];
  /** Subscribers that get each message of a publisher. */
  fanout: number;
}

function plan(o: Resolved, base: string): Plan {
  const c = o.clients;
  switch (o.scenario) {
    case "pub":
      return {
        publishers: c,
        subscribers: 0,
        topicsOf: (i) => [`${base}/${i}`],
        filtersOf: () => [],
        fanout: 0,
      };
    case "fanin":
      return {
        publishers: c,
        subscribers: 1,
        topicsOf: (i) => [`${base}/${i}`],
        filtersOf: () => [`${base}/+`],
        fanout: 1,
      };
    case "fanout":
      return {
        publishers: 1,
        subscribers: c,
        topicsOf: () => [`${base}/all`],
        filtersOf: () => [`${base}/all`],
        fanout: c,
      };
    case "subs": {
      // Subscriber i holds o.topics subscriptions; publisher i publishes
      // to each of them in turn.
      const topics = (i: number) =>
        Array.from({ length: o.topics }, (_, j) => `${base}/${i}/${j}`);
      return {
        publishers: c,
        subscribers: c,
        topicsOf: topics,
        filtersOf: topics,
        fanout: 1,
      };
    }
    default:
      return {
        publishers: c,
        subscribers: c,
        topicsOf: (i) => [`${base}/${i}`],
        filtersOf: (i) => [`${base}/${i}`],
        fanout: 1,
      };
  }
}

/** Runs a message scenario: subscribers, then publishers, then the drain. */
export async function runMessages(o: Resolved): Promise<BenchResult> {
  const run = runId();
  const p = plan(o, `${o.topic}/${run}`);
  const errors = new ErrorLog();
  const latency = new Histogram();
  const trackers = new Map<number, SequenceTracker>();
  const publishers: Publisher[] = [];
  const window = o.inflight;
  let deliveredTotal = 0;
  let lastDelivery = 0;
  let foreign = 0;
  let drained: (() => void) | undefined;
  let expectedTotal = 0;
  const stamp: Stamp = { publisher: 0, seq: 0, sentAt: 0 };

  const receive = (subscriber: number, payload: Uint8Array) => {
    const now = performance.now();
    if (!readStamp(payload, stamp) || stamp.publisher >= p.publishers) {
      foreign++;
      return;
    }
    const key = subscriber * p.publishers + stamp.publisher;
    let tracker = trackers.get(key);
    if (tracker === undefined) {
      tracker = new SequenceTracker();
      trackers.set(key, tracker);
    }
    const highest = tracker.highest;
    if (!tracker.add(stamp.seq)) return;
    latency.record(now - stamp.sentAt);
    lastDelivery = now;
    deliveredTotal++;
    const publisher = publishers[stamp.publisher];
    if (publisher === undefined || stamp.seq <= highest) return;
    publisher.settled += stamp.seq - highest;
    if (publisher.wake && publisher.outstanding(o.qos) < window) {
      publisher.wake();
    }
    drained?.();
  };

  const everyone: BenchClient[] = [];
  try {
    // Subscribers first, so that no message is published before they listen.
    const subscribers: BenchClient[] = new Array(p.subscribers);
    await forEachLimited(p.subscribers, SETUP_CONCURRENCY, async (i) => {
      const client = await BenchClient.connect(
        linkFor(o.subscriberLink, o.hostnames, i),
        clientOptions(o, `bench-${run}-s${i}`),
      );
      everyone.push(client);
      client.onPublish = (packet) => receive(i, packet.payload);
      subscribers[i] = client;
    });
    // Then every subscription, timed apart from the connections.
    const subscribeStart = performance.now();
    let subscriptions = 0;
    await forEachLimited(p.subscribers, SETUP_CONCURRENCY, async (i) => {
      const filters = p.filtersOf(i);
      await subscribers[i]!.subscribeMany(filters, o.qos, o.timeout, window);
      subscriptions += filters.length;
    });
    const subscribeTime = (performance.now() - subscribeStart) / 1000;
    const pubs: (Publisher | undefined)[] = new Array(p.publishers);
    await forEachLimited(p.publishers, SETUP_CONCURRENCY, async (i) => {
      const client = await BenchClient.connect(
        linkFor(o.link, o.hostnames, p.subscribers + i),
        clientOptions(o, `bench-${run}-p${i}`),
      );
      everyone.push(client);
      const publisher = new Publisher(
        i,
        client,
        p.topicsOf(i).map((topic) =>
          new PublishTemplate(topic, o.size, o.qos, o.protocolVersion)
        ),
        p.fanout,
      );
      client.onAcked = () => {
        publisher.acked++;
        if (publisher.wake && publisher.outstanding(o.qos) < window) {
          publisher.wake();
        }
        if (drained && publisher.acked === publisher.sent) drained();
      };
      client.onClose = () => publisher.wake?.();
      pubs[i] = publisher;
    });
    publishers.push(...pubs.filter((x) => x !== undefined));
    await reach(o, "ready");
    await hold(o);

    const start = performance.now();
    const deadline = o.duration > 0 ? start + o.duration * 1000 : Infinity;
    const totalMessages = o.messages * p.publishers;
    let published = 0;
    let stalls = 0;
    const progress = startProgress(
      o,
      start,
      () => published,
      () => deliveredTotal,
      totalMessages,
    );
    const ratePerPublisher = o.rate / p.publishers;

    const publish = async (pub: Publisher) => {
      const client = pub.client;
      const index = pub.index;
      const stampWith = (view: DataView) =>
        writeStamp(view, index, pub.sent, performance.now());
      while (
        pub.sent < o.messages && !client.closed && !o.signal?.aborted
      ) {
        const now = performance.now();
        if (now >= deadline) break;
        const space = window - pub.outstanding(o.qos);
        if (space <= 0) {
          const moved = await new Promise<boolean>((resolve) => {
            const timer = setTimeout(
              () => resolve(false),
              Math.min(o.timeout, deadline - now),
            );
            pub.wake = () => {
              clearTimeout(timer);
              resolve(true);
            };
          });
          pub.wake = undefined;
          if (!moved && performance.now() < deadline && !client.closed) {
            stalls++;
            pub.forgive();
          }
          continue;
        }
        let n = Math.min(space, o.messages - pub.sent, BATCH);
        if (ratePerPublisher > 0) {
          const due = Math.floor((now - start) / 1000 * ratePerPublisher) +
            1 - pub.sent;
          if (due <= 0) {
            await sleep(
              start + (pub.sent / ratePerPublisher) * 1000 - now,
            );
            continue;
          }
          n = Math.min(n, due);
        }
        for (let k = 0; k < n; k++) {
          client.sendPublish(
            pub.templates[pub.sent % pub.templates.length]!,
            stampWith,
          );
          pub.sent++;
        }
        published += n;
        await client.drained();
      }
      if (client.error) errors.add(client.error);
    };
    await Promise.all(publishers.map(publish));
    const publishEnd = performance.now();

    // Wait for the last deliveries and acks, as long as they keep coming.
    expectedTotal = publishers.reduce((sum, x) => sum + x.sent * x.fanout, 0);
    // Complete when every subscriber has seen the last message of each of
    // its publishers (a gap will not be filled: MQTT keeps order), and
    // every QoS 1 and 2 message is acknowledged.
    const complete = () =>
      (deliveredTotal >= expectedTotal ||
        publishers.every((x) => x.settled >= x.sent * x.fanout)) &&
      (o.qos === 0 || publishers.every((x) => x.acked >= x.sent));
    const drainDeadline = publishEnd + o.timeout;
    let seen = -1;
    while (
      !complete() && !o.signal?.aborted && performance.now() < drainDeadline
    ) {
      const acked = publishers.reduce((sum, x) => sum + x.acked, 0);
      if (deliveredTotal + acked === seen) break;
      seen = deliveredTotal + acked;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(
          resolve,
          Math.max(0, Math.min(2000, drainDeadline - performance.now())),
        );
        drained = () => {
          if (complete()) {
            clearTimeout(timer);
            resolve();
          }
        };
      });
      drained = undefined;
    }
    progress.stop();
    await reach(o, "done");
    await hold(o);

    const end = Math.max(publishEnd, lastDelivery);
    let duplicated = 0, outOfOrder = 0;
    for (const t of trackers.values()) {
      duplicated += t.duplicated;
      outOfOrder += t.outOfOrder;
    }
    for (const client of everyone) {
      if (client.error) errors.add(client.error);
    }
    if (foreign > 0) {
      errors.add(`${foreign} messages without a stamp of this run`);
    }
    const acked = publishers.reduce((sum, x) => sum + x.acked, 0);
    return {
      ...emptyResult(o, p.publishers, p.subscribers),
      elapsed: (end - start) / 1000,
      published,
      acked,
      publishRate: publishEnd > start
        ? published / ((publishEnd - start) / 1000)
        : 0,
      expected: expectedTotal,
      delivered: deliveredTotal,
      deliveryRate: lastDelivery > start
        ? deliveredTotal / ((lastDelivery - start) / 1000)
        : 0,
      lost: expectedTotal - deliveredTotal,
      duplicated,
      outOfOrder,
      publisherSpread: spread(publishers.map((x) => x.settled)),
      stalls,
      latency: latency.summary(),
      ...(o.scenario === "subs"
        ? {
          subscribe: {
            subscriptions,
            elapsed: subscribeTime,
            rate: subscribeTime > 0 ? subscriptions / subscribeTime : 0,
          },
        }
        : {}),
      errors: [...errors.messages],
    };
  } finally {
    drained = undefined;
    await closeAll(everyone);
  }
}
