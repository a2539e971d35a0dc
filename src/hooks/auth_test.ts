import {
  deepStrictEqual,
  rejects,
  strictEqual,
  throws,
} from "node:assert/strict";
import {
  hashPassword,
  parsePasswordFile,
  parsePasswordHash,
  passwordAuth,
  setPasswordFileUser,
  verifyPassword,
} from "./auth.ts";
import type { ClientInfo } from "../types.ts";
import type { ConnectPacket } from "../../packets/types.ts";

const FAST = { iterations: 1000 };
const encoder = new TextEncoder();

const CLIENT: ClientInfo = {
  remoteAddress: "127.0.0.1:50000",
  localAddress: "127.0.0.1:1883",
  transport: "tcp",
  listener: "tcp:1883",
  clientId: "c1",
  username: undefined,
  protocolVersion: 4,
  clean: true,
  keepAlive: 60,
};

function connect(username?: string, password?: string): ConnectPacket {
  return {
    type: "connect",
    protocolName: "MQTT",
    protocolVersion: 4,
    clean: true,
    keepAlive: 60,
    clientId: "c1",
    ...(username !== undefined ? { username } : {}),
    ...(password !== undefined ? { password: encoder.encode(password) } : {}),
  };
}

async function check(
  hooks: ReturnType<typeof passwordAuth>,
  packet: ConnectPacket,
): Promise<number | undefined> {
  const verdict = await hooks.checkConnect?.(
    { ...CLIENT, username: packet.username },
    packet,
  );
  return verdict ?? undefined;
}

Deno.test("hashPassword() makes a $pbkdf2-sha256$ hash with a random salt", async () => {
  const a = await hashPassword("pw", FAST);
  const b = await hashPassword("pw", FAST);
  strictEqual(
    /^\$pbkdf2-sha256\$1000\$[A-Za-z0-9+/]{22}==\$[A-Za-z0-9+/]{43}=$/.test(a),
    true,
  );
  strictEqual(a === b, false);
});

Deno.test("verifyPassword() checks a published PBKDF2-HMAC-SHA256 test vector", async () => {
  // P = "passwordPASSWORDpassword", S = "saltSALTsaltSALTsaltSALTsaltSALTsalt",
  // c = 4096, dkLen = 40: 348c89db...dac47e9 (also given by `openssl kdf`).
  const hash = "$pbkdf2-sha256$4096$" +
    "c2FsdFNBTFRzYWx0U0FMVHNhbHRTQUxUc2FsdFNBTFRzYWx0$" +
    "NIyJ28vTKy8y2BS4EW6EzysXNH68GAAYHE4qH7jdU+HGNVGMfaxH6Q==";
  strictEqual(await verifyPassword("passwordPASSWORDpassword", hash), true);
  strictEqual(await verifyPassword("passwordPASSWORDpassworD", hash), false);
});

Deno.test("hashPassword() is deterministic for a given salt", async () => {
  const options = { iterations: 1000, salt: encoder.encode("saltsalt") };
  strictEqual(
    await hashPassword("pw", options),
    await hashPassword("pw", options),
  );
});

Deno.test("hashPassword() refuses bad iterations and short salts", async () => {
  await rejects(hashPassword("pw", { iterations: 0 }), RangeError);
  await rejects(hashPassword("pw", { iterations: 1.5 }), RangeError);
  await rejects(
    hashPassword("pw", { salt: new Uint8Array(4), iterations: 1 }),
    RangeError,
  );
});

Deno.test("verifyPassword() accepts the password and refuses others", async () => {
  const hash = await hashPassword("correct horse", FAST);
  strictEqual(await verifyPassword("correct horse", hash), true);
  strictEqual(
    await verifyPassword(encoder.encode("correct horse"), hash),
    true,
  );
  strictEqual(await verifyPassword("correct horsE", hash), false);
  strictEqual(await verifyPassword("", hash), false);
});

Deno.test("verifyPassword() throws for a string that is not a hash", async () => {
  await rejects(verifyPassword("pw", "pw"), TypeError);
});

Deno.test("parsePasswordHash() refuses plain text and malformed hashes", () => {
  for (
    const text of [
      "secret",
      "$pbkdf2-sha256$$AAAAAAAAAAA=$AAAAAAAAAAAAAAAAAAAAAA==",
      "$pbkdf2-sha256$0$AAAAAAAAAAA=$AAAAAAAAAAAAAAAAAAAAAA==",
      "$pbkdf2-sha512$1000$AAAAAAAAAAA=$AAAAAAAAAAAAAAAAAAAAAA==",
      "$pbkdf2-sha256$1000$AAAA$AAAAAAAAAAAAAAAAAAAAAA==",
      "$pbkdf2-sha256$1000$AAAAAAAAAAA=$AAAA",
      "$pbkdf2-sha256$1000$AAAAAAAAAAA=$!!!!",
      "$pbkdf2-sha256$1000$AAAAAAAAAAA=$AAAAAAAAAAAAAAAAAAAAAA==$x",
    ]
  ) {
    strictEqual(parsePasswordHash(text), undefined, text);
  }
});

Deno.test("parsePasswordFile() reads users and skips comments and blank lines", async () => {
  const a = await hashPassword("a", FAST);
  const b = await hashPassword("b", FAST);
  const users = parsePasswordFile(`# users\n\nalice:${a}\r\nbob:${b}\n`);
  deepStrictEqual([...users], [["alice", a], ["bob", b]]);
});

Deno.test("parsePasswordFile() names the line of a bad entry", () => {
  throws(() => parsePasswordFile("# x\nalice:hunter2\n"), {
    name: "SyntaxError",
    message: /^Cannot read password file: line 2: the password of "alice"/,
  });
  throws(() => parsePasswordFile("alice\n"), {
    message: 'Cannot read password file: line 1: expected "username:hash"',
  });
});

Deno.test("setPasswordFileUser() replaces a user's line and keeps the others", async () => {
  const old = await hashPassword("old", FAST);
  const fresh = await hashPassword("new", FAST);
  const text = `# users\nalice:${old}\nbob:${old}\n`;
  strictEqual(
    setPasswordFileUser(text, "alice", fresh),
    `# users\nalice:${fresh}\nbob:${old}\n`,
  );
  strictEqual(
    setPasswordFileUser("", "carol", fresh),
    `carol:${fresh}\n`,
  );
  throws(() => setPasswordFileUser(text, "a:b", fresh), TypeError);
  throws(() => setPasswordFileUser(text, "alice", "plain"), TypeError);
});

Deno.test("passwordAuth() lets a known user in with the right password", async () => {
  const hooks = passwordAuth({
    users: { alice: await hashPassword("pw", FAST) },
  });
  strictEqual(await check(hooks, connect("alice", "pw")), undefined);
});

Deno.test("passwordAuth() refuses a wrong password or an unknown user with 0x86", async () => {
  const hooks = passwordAuth({
    users: new Map([["alice", await hashPassword("pw", FAST)]]),
  });
  strictEqual(await check(hooks, connect("alice", "bad")), 0x86);
  strictEqual(await check(hooks, connect("alice")), 0x86);
  strictEqual(await check(hooks, connect("mallory", "pw")), 0x86);
});

Deno.test("passwordAuth() refuses anonymous clients with 0x87 when users are set", async () => {
  const hooks = passwordAuth({
    users: { alice: await hashPassword("pw", FAST) },
  });
  strictEqual(await check(hooks, connect()), 0x87);
});

Deno.test("passwordAuth() lets anonymous clients in when told to", async () => {
  const hooks = passwordAuth({
    users: { alice: await hashPassword("pw", FAST) },
    allowAnonymous: true,
  });
  strictEqual(await check(hooks, connect()), undefined);
  strictEqual(await check(hooks, connect("alice", "bad")), 0x86);
});

Deno.test("passwordAuth() with no users allows anonymous clients only", async () => {
  const open = passwordAuth();
  strictEqual(await check(open, connect()), undefined);
  strictEqual(await check(open, connect("who", "pw")), 0x86);
  const closed = passwordAuth({ allowAnonymous: false });
  strictEqual(await check(closed, connect()), 0x87);
});

Deno.test("passwordAuth() throws for a plain-text password", () => {
  throws(() => passwordAuth({ users: { alice: "hunter2" } }), {
    name: "TypeError",
    message: /"alice" is not a \$pbkdf2-sha256\$ hash/,
  });
});

/** A verifier that counts its runs around the real one. */
function countingVerify(): {
  runs: () => number;
  verify: (password: Uint8Array, hash: string) => Promise<boolean>;
} {
  let runs = 0;
  return {
    runs: () => runs,
    verify: (password, hash) => {
      runs++;
      return verifyPassword(password, hash);
    },
  };
}

/** A verifier whose checks wait until `release` lets them answer. */
function gatedVerify(): {
  runs: () => number;
  release: () => void;
  verify: (password: Uint8Array, hash: string) => Promise<boolean>;
} {
  let runs = 0;
  // A release that comes before its check waits as a permit, so the tests
  // do not depend on how soon a check reaches the gate.
  let permits = 0;
  const gates: (() => void)[] = [];
  return {
    runs: () => runs,
    release: () => {
      const gate = gates.shift();
      if (gate === undefined) permits++;
      else gate();
    },
    verify: async (password, hash) => {
      runs++;
      if (permits > 0) permits--;
      else await new Promise<void>((resolve) => gates.push(resolve));
      return verifyPassword(password, hash);
    },
  };
}

function connectAs(
  hooks: ReturnType<typeof passwordAuth>,
  clientId: string,
  username?: string,
  password?: string,
  signal?: AbortSignal,
): Promise<number | undefined> {
  const packet = { ...connect(username, password), clientId };
  return Promise.resolve(
    hooks.checkConnect?.(
      { ...CLIENT, clientId, username },
      packet,
      signal,
    ),
  ).then((v) => v ?? undefined);
}

Deno.test("passwordAuth() runs a bounded number of PBKDF2 checks for 500 parallel tries of one wrong password", async () => {
  const counter = countingVerify();
  const hooks = passwordAuth({
    users: { alice: await hashPassword("right", FAST) },
    verify: counter.verify,
  });
  const verdicts = await Promise.all(
    Array.from({ length: 500 }, () => check(hooks, connect("alice", "wrong"))),
  );
  strictEqual(verdicts.every((v) => v === 0x86), true);
  // The first checks (2 at once) run PBKDF2; the rest find their failure.
  strictEqual(counter.runs() <= 2, true, `${counter.runs()} runs`);
  strictEqual(await check(hooks, connect("alice", "right")), undefined);
});

Deno.test("passwordAuth() answers a repeated wrong password from its failure cache until it expires", async () => {
  let now = 0;
  const counter = countingVerify();
  const hooks = passwordAuth({
    users: { alice: await hashPassword("right", FAST) },
    verify: counter.verify,
    now: () => now,
  });
  strictEqual(await check(hooks, connect("alice", "wrong")), 0x86);
  strictEqual(counter.runs(), 1);
  strictEqual(await check(hooks, connect("alice", "wrong")), 0x86);
  strictEqual(counter.runs(), 1);
  // Another password, or another user, is checked in full.
  strictEqual(await check(hooks, connect("alice", "wrong2")), 0x86);
  strictEqual(await check(hooks, connect("bob", "wrong")), 0x86);
  strictEqual(counter.runs(), 3);
  now += 10_000;
  strictEqual(await check(hooks, connect("alice", "wrong")), 0x86);
  strictEqual(counter.runs(), 4);
});

Deno.test("passwordAuth() never caches a right password", async () => {
  const counter = countingVerify();
  const hooks = passwordAuth({
    users: { alice: await hashPassword("right", FAST) },
    verify: counter.verify,
  });
  strictEqual(await check(hooks, connect("alice", "right")), undefined);
  strictEqual(await check(hooks, connect("alice", "right")), undefined);
  strictEqual(counter.runs(), 2);
});

Deno.test("passwordAuth() forgets the oldest failure past failureCacheSize", async () => {
  const counter = countingVerify();
  const hooks = passwordAuth({
    users: { alice: await hashPassword("right", FAST) },
    verify: counter.verify,
    failureCacheSize: 2,
  });
  for (const pw of ["a", "b", "c"]) {
    await check(hooks, connect("alice", pw));
  }
  strictEqual(counter.runs(), 3);
  await check(hooks, connect("alice", "c"));
  await check(hooks, connect("alice", "b"));
  strictEqual(counter.runs(), 3);
  await check(hooks, connect("alice", "a"));
  strictEqual(counter.runs(), 4);
});

Deno.test("passwordAuth() skips a queued check whose signal aborted, and never runs it", async () => {
  const gate = gatedVerify();
  const hooks = passwordAuth({
    users: { alice: await hashPassword("right", FAST) },
    verify: gate.verify,
    maxConcurrentChecks: 1,
  });
  const first = connectAs(hooks, "c1", "alice", "right");
  const abort = new AbortController();
  const second = connectAs(hooks, "c2", "alice", "right", abort.signal);
  await new Promise((resolve) => setTimeout(resolve, 0));
  strictEqual(gate.runs(), 1);
  abort.abort();
  strictEqual(typeof await second, "number");
  gate.release();
  strictEqual(await first, undefined);
  strictEqual(gate.runs(), 1);
  // The turn went back: a new check runs.
  const third = connectAs(hooks, "c3", "alice", "right");
  await new Promise((resolve) => setTimeout(resolve, 0));
  strictEqual(gate.runs(), 2);
  gate.release();
  strictEqual(await third, undefined);
});

Deno.test("passwordAuth() refuses with server busy (0x89) past maxQueuedChecks", async () => {
  const gate = gatedVerify();
  const hooks = passwordAuth({
    users: { alice: await hashPassword("right", FAST) },
    verify: gate.verify,
    maxConcurrentChecks: 1,
    maxQueuedChecks: 1,
  });
  const running = connectAs(hooks, "c1", "alice", "right");
  const queued = connectAs(hooks, "c2", "alice", "right");
  strictEqual(await connectAs(hooks, "c3", "alice", "right"), 0x89);
  await new Promise((resolve) => setTimeout(resolve, 0));
  gate.release();
  strictEqual(await running, undefined);
  await new Promise((resolve) => setTimeout(resolve, 0));
  gate.release();
  strictEqual(await queued, undefined);
});

Deno.test("passwordAuth() with clientIdBinding exact lets a user connect only under its own name", async () => {
  const hooks = passwordAuth({
    users: { alice: await hashPassword("a", FAST) },
    clientIdBinding: "exact",
    allowAnonymous: true,
  });
  strictEqual(await connectAs(hooks, "alice", "alice", "a"), undefined);
  strictEqual(await connectAs(hooks, "alice:1", "alice", "a"), 0x85);
  strictEqual(await connectAs(hooks, "bob", "alice", "a"), 0x85);
  // A wrong password is refused as such, whatever the client id.
  strictEqual(await connectAs(hooks, "bob", "alice", "x"), 0x86);
  // Anonymous clients may not take a user's id.
  strictEqual(await connectAs(hooks, "alice", undefined), 0x85);
  strictEqual(await connectAs(hooks, "sensor", undefined), undefined);
});

Deno.test("passwordAuth() with clientIdBinding prefix allows the user name and the user name followed by a colon", async () => {
  const hooks = passwordAuth({
    users: {
      alice: await hashPassword("a", FAST),
      "alice-bob": await hashPassword("ab", FAST),
    },
    clientIdBinding: "prefix",
    allowAnonymous: true,
  });
  strictEqual(await connectAs(hooks, "alice", "alice", "a"), undefined);
  strictEqual(await connectAs(hooks, "alice:kitchen", "alice", "a"), undefined);
  strictEqual(await connectAs(hooks, "alice-bob", "alice", "a"), 0x85);
  strictEqual(await connectAs(hooks, "aliceX", "alice", "a"), 0x85);
  strictEqual(
    await connectAs(hooks, "alice-bob:1", "alice-bob", "ab"),
    undefined,
  );
  strictEqual(await connectAs(hooks, "alice:1", undefined), 0x85);
  strictEqual(await connectAs(hooks, "carol:1", undefined), undefined);
});

Deno.test("passwordAuth() with clientIdBinding none lets any client id in", async () => {
  const hooks = passwordAuth({
    users: { alice: await hashPassword("a", FAST) },
    allowAnonymous: true,
  });
  strictEqual(await connectAs(hooks, "bob", "alice", "a"), undefined);
  strictEqual(await connectAs(hooks, "alice", undefined), undefined);
});

Deno.test("passwordAuth() throws on a bad binding or limit", () => {
  throws(
    () => passwordAuth({ clientIdBinding: "loose" as "none" }),
    TypeError,
  );
  throws(() => passwordAuth({ maxConcurrentChecks: 0 }), RangeError);
  throws(() => passwordAuth({ maxQueuedChecks: -1 }), RangeError);
  throws(() => passwordAuth({ failureCacheTime: 1.5 }), RangeError);
});
