/**
 * Authentication under attack: floods of password checks, hung connect
 * hooks, sessions resumed by another user, and client ids bound to users;
 * over in-memory pipes.
 *
 * @module
 */

import { deepStrictEqual, ok, strictEqual } from "node:assert/strict";
import {
  aclHooks,
  hashPassword,
  type Hooks,
  passwordAuth,
  verifyPassword,
} from "../mod.ts";
import { publish, suback, subscribe } from "../packets/testdata/packets.ts";
import { startPipeServer } from "./_client.ts";
import { FakeClock, subscribeTo, text, waitFor } from "./_harness.ts";

const FAST = { iterations: 1000 };
const encoder = new TextEncoder();

Deno.test("passwordAuth() lets a valid login in promptly after 500 parallel bad-password CONNECTs", async () => {
  let runs = 0;
  await using s = await startPipeServer({
    hooks: passwordAuth({
      users: { alice: await hashPassword("right", FAST) },
      verify: (password, hash) => {
        runs++;
        return verifyPassword(password, hash);
      },
    }),
  });
  const attackers = await Promise.all(
    Array.from({ length: 500 }, () => s.open()),
  );
  try {
    const answers = Promise.all(attackers.map((c) => c.next(10_000)));
    await Promise.all(attackers.map((c, i) =>
      c.send({
        type: "connect",
        protocolName: "MQTT",
        protocolVersion: 4,
        clean: true,
        keepAlive: 0,
        clientId: `attacker-${i}`,
        username: "alice",
        password: encoder.encode("wrong"),
      })
    ));
    const started = performance.now();
    const { client, connack } = await s.connect({
      clientId: "alice-1",
      username: "alice",
      password: encoder.encode("right"),
    });
    const took = performance.now() - started;
    await using _ = client;
    strictEqual(connack.reasonCode, 0);
    for (const answer of await answers) {
      deepStrictEqual(answer, {
        type: "connack",
        sessionPresent: false,
        reasonCode: 4,
      });
    }
    // Two checks at once ran PBKDF2; the other 498 found the failure in the
    // cache; the valid login ran its own.
    ok(runs <= 3, `${runs} PBKDF2 runs`);
    ok(took < 5000, `valid login took ${took} ms`);
  } finally {
    await Promise.all(attackers.map((c) => c.close()));
  }
});

Deno.test("Server keeps a CONNECT waiting for its hooks past the connect timeout, closes it at three times that, and its queued password check never runs", async () => {
  const clock = new FakeClock();
  let runs = 0;
  const gates: (() => void)[] = [];
  const signals: AbortSignal[] = [];
  const auth = passwordAuth({
    users: { alice: await hashPassword("right", FAST) },
    maxConcurrentChecks: 1,
    verify: async (password, hash) => {
      runs++;
      await new Promise<void>((resolve) => gates.push(resolve));
      return verifyPassword(password, hash);
    },
  });
  const watcher: Hooks = {
    checkConnect(_client, _packet, signal) {
      if (signal !== undefined) signals.push(signal);
    },
  };
  await using s = await startPipeServer({
    hooks: [watcher, auth],
    now: clock.now,
    sweepInterval: 5,
    connectTimeout: 10,
  });
  const login = {
    username: "alice",
    password: encoder.encode("right"),
  };
  // The first check holds the only turn; the second waits in the queue.
  const first = await s.open();
  await using _first = first;
  const second = await s.open();
  await using _second = second;
  const firstAnswer = first.connect({ clientId: "a1", ...login });
  await waitFor(() => runs === 1);
  const secondAnswer = second.connect({ clientId: "a2", ...login });
  await waitFor(() => signals.length === 2);
  // Past the connect timeout: both wait for their hooks, neither is closed.
  clock.advance(11_000);
  await second.nothing(50);
  strictEqual(second.ended, false);
  // Past three times the connect timeout both are closed; the queued check
  // is dropped without running.
  clock.advance(20_000);
  await second.closed();
  await first.closed();
  strictEqual(signals.every((signal) => signal.aborted), true);
  gates.shift()?.();
  await Promise.allSettled([firstAnswer, secondAnswer]);
  strictEqual(runs, 1);
});

/** Users u1 and u2; the ACL lets only u1 near `secret/`. */
async function ownerServer(sessionOwnerChange?: "refuse" | "clean") {
  return await startPipeServer({
    hooks: [
      passwordAuth({
        users: {
          u1: await hashPassword("p1", FAST),
          u2: await hashPassword("p2", FAST),
          admin: await hashPassword("pa", FAST),
        },
      }),
      aclHooks({
        rules: [
          { permission: "allow", action: "all", topic: "#", username: "u1" },
          { permission: "allow", action: "all", topic: "#", username: "admin" },
          { permission: "deny", action: "all", topic: "secret/#" },
        ],
      }),
    ],
    ...(sessionOwnerChange !== undefined ? { sessionOwnerChange } : {}),
  });
}

function as(user: "u1" | "u2" | "admin") {
  const password = { u1: "p1", u2: "p2", admin: "pa" }[user];
  return { username: user, password: encoder.encode(password) };
}

for (const protocolVersion of [4, 5] as const) {
  Deno.test(`Server refuses a ${protocolVersion === 5 ? "5.0" : "3.1.1"} client resuming another user's offline session, and keeps its queued messages for their owner`, async () => {
    await using s = await ownerServer();
    const session = {
      clientId: "shared-id",
      clean: false,
      protocolVersion,
      ...(protocolVersion === 5
        ? { properties: { sessionExpiryInterval: 600 } }
        : {}),
    };
    const { client: u1 } = await s.connect({
      ...session,
      ...as("u1"),
    });
    await u1.send(
      subscribe({ packetId: 1, subscriptions: [["secret/#", 1]] }),
    );
    const granted = await u1.next();
    deepStrictEqual(granted.type === "suback" && granted.reasonCodes, [1]);
    await u1.send({ type: "disconnect" });
    await u1.close();
    await waitFor(() => s.server.session("shared-id")?.connected === false);
    await s.server.publish({ topic: "secret/plan", payload: "x", qos: 1 });

    const { client: u2, connack } = await s.connect({
      ...session,
      ...as("u2"),
    });
    await using _u2 = u2;
    strictEqual(connack.sessionPresent, false);
    strictEqual(connack.reasonCode, protocolVersion === 5 ? 0x87 : 5);
    await u2.closed();

    const { client: back, connack: resumed } = await s.connect({
      ...session,
      ...as("u1"),
    });
    await using _back = back;
    strictEqual(resumed.sessionPresent, true);
    const message = await back.next();
    strictEqual(message.type === "publish" && message.topic, "secret/plan");
    strictEqual(message.type === "publish" && text(message.payload), "x");
  });
}

Deno.test("Server refuses another user taking over a connected client's id and leaves the connection alone", async () => {
  await using s = await ownerServer();
  const { client: u1 } = await s.connect({
    clientId: "dev",
    ...as("u1"),
  });
  await using _u1 = u1;
  await subscribeTo(u1, "secret/#", 0);
  const { client: u2, connack } = await s.connect({
    clientId: "dev",
    ...as("u2"),
  });
  await using _u2 = u2;
  strictEqual(connack.reasonCode, 5);
  await s.server.publish({ topic: "secret/live", payload: "y" });
  const message = await u1.next();
  strictEqual(message.type === "publish" && message.topic, "secret/live");
  await u1.send({ type: "pingreq" });
  deepStrictEqual(await u1.next(), { type: "pingresp" });
});

Deno.test("Server with sessionOwnerChange clean gives another user a new, empty session", async () => {
  await using s = await ownerServer("clean");
  const session = { clientId: "shared-id", clean: false };
  const { client: u1 } = await s.connect({
    ...session,
    ...as("u1"),
  });
  await subscribeTo(u1, "secret/#", 1);
  await u1.send({ type: "disconnect" });
  await u1.close();
  await waitFor(() => s.server.session("shared-id")?.connected === false);
  await s.server.publish({ topic: "secret/plan", payload: "x", qos: 1 });
  const { client: u2, connack } = await s.connect({
    ...session,
    ...as("u2"),
  });
  await using _u2 = u2;
  deepStrictEqual(connack, {
    type: "connack",
    sessionPresent: false,
    reasonCode: 0,
  });
  await u2.nothingPending();
  strictEqual(s.server.session("shared-id")?.subscriptions.length, 0);
});

Deno.test("passwordAuth() with clientIdBinding exact keeps the README's devices/%c/# rule to each device's own topics", async () => {
  await using s = await startPipeServer({
    hooks: [
      passwordAuth({
        users: {
          alice: await hashPassword("a", FAST),
          bob: await hashPassword("b", FAST),
        },
        clientIdBinding: "exact",
      }),
      aclHooks({
        rules: [{ permission: "allow", action: "all", topic: "devices/%c/#" }],
        default: "deny",
      }),
    ],
  });
  const login = (user: string) => ({
    username: user,
    password: encoder.encode(user[0]!),
  });
  // bob cannot claim alice's client id...
  const { client: impostor, connack } = await s.connect({
    clientId: "alice",
    ...login("bob"),
  });
  await using _impostor = impostor;
  strictEqual(connack.reasonCode, 2);
  // ...so under his own id he reaches only devices/bob/.
  const { client: bob } = await s.connect({
    clientId: "bob",
    ...login("bob"),
  });
  await using _bob = bob;
  await bob.send(
    subscribe({ packetId: 1, subscriptions: [["devices/alice/#", 0]] }),
  );
  deepStrictEqual(
    await bob.next(),
    suback({ packetId: 1, reasonCodes: [0x80] }),
  );
  await subscribeTo(bob, "devices/bob/#", 0, 2);
  await bob.send(publish({ topic: "devices/bob/t", payload: "ok" }));
  const own = await bob.next();
  strictEqual(own.type === "publish" && own.topic, "devices/bob/t");
});

Deno.test("Server drops the queued password check of a client that closes its socket while it waits, and serves the next", async () => {
  let runs = 0;
  const gates: (() => void)[] = [];
  await using s = await startPipeServer({
    hooks: passwordAuth({
      users: { alice: await hashPassword("right", FAST) },
      maxConcurrentChecks: 1,
      verify: async (password, hash) => {
        runs++;
        await new Promise<void>((resolve) => gates.push(resolve));
        return verifyPassword(password, hash);
      },
    }),
  });
  const login = { username: "alice", password: encoder.encode("right") };
  const first = await s.open();
  await using _first = first;
  const firstAnswer = first.connect({ clientId: "a1", ...login });
  await waitFor(() => runs === 1);
  // The second CONNECT waits behind the first; its client then leaves.
  const leaving = await s.open();
  await leaving.send({
    type: "connect",
    protocolName: "MQTT",
    protocolVersion: 4,
    clean: true,
    keepAlive: 0,
    clientId: "a2",
    ...login,
  });
  await waitFor(() => s.server.metrics().connectionsCurrent === 2);
  await leaving.close();
  await waitFor(() => s.server.metrics().connectionsCurrent === 1);
  gates.shift()!();
  strictEqual((await firstAnswer).reasonCode, 0);
  // The turn goes to the next client, not to the one that left.
  const third = await s.open();
  await using _third = third;
  const thirdAnswer = third.connect({ clientId: "a3", ...login });
  await waitFor(() => runs === 2);
  gates.shift()!();
  strictEqual((await thirdAnswer).reasonCode, 0);
  strictEqual(runs, 2);
});
