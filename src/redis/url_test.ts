import { deepStrictEqual, strictEqual, throws } from "node:assert/strict";
import { parseRedisUrl, redactRedisUrl, type RedisUrl } from "./url.ts";

const VALID: [url: string, parsed: RedisUrl][] = [
  ["redis://", {
    tls: false,
    hostname: "127.0.0.1",
    port: 6379,
    db: 0,
    redacted: "redis://127.0.0.1:6379/0",
  }],
  ["redis://cache.internal", {
    tls: false,
    hostname: "cache.internal",
    port: 6379,
    db: 0,
    redacted: "redis://cache.internal:6379/0",
  }],
  ["rediss://10.1.2.3:6380/15", {
    tls: true,
    hostname: "10.1.2.3",
    port: 6380,
    db: 15,
    redacted: "rediss://10.1.2.3:6380/15",
  }],
  ["redis://user:pass@host:6379/2", {
    tls: false,
    hostname: "host",
    port: 6379,
    username: "user",
    password: "pass",
    db: 2,
    redacted: "redis://user:***@host:6379/2",
  }],
  ["redis://:only%20secret@host", {
    tls: false,
    hostname: "host",
    port: 6379,
    password: "only secret",
    db: 0,
    redacted: "redis://:***@host:6379/0",
  }],
  ["REDIS://us%40er:p%3Aa%2Fss@[::1]:7000/", {
    tls: false,
    hostname: "::1",
    port: 7000,
    username: "us@er",
    password: "p:a/ss",
    db: 0,
    redacted: "redis://us%40er:***@[::1]:7000/0",
  }],
  // An unencoded @ or / in the password still works: the last @ ends it.
  ["redis://app:p@ss/w@host:1234/1", {
    tls: false,
    hostname: "host",
    port: 1234,
    username: "app",
    password: "p@ss/w",
    db: 1,
    redacted: "redis://app:***@host:1234/1",
  }],
];

for (const [url, parsed] of VALID) {
  Deno.test(`parseRedisUrl() reads ${url}`, () => {
    deepStrictEqual(parseRedisUrl(url), parsed);
  });
}

const INVALID: [url: string, message: RegExp][] = [
  ["127.0.0.1:6379", /must start with redis:\/\/ or rediss:\/\//],
  ["http://host", /the scheme http:\/\/ is not redis:\/\/ or rediss:\/\//],
  ["redis://host:0", /the port "0" is not a number from 1 to 65535/],
  ["redis://host:65536", /the port "65536"/],
  ["redis://host:abc", /the port "abc"/],
  ["redis://host/x", /the database "\/x" is not a number/],
  ["redis://host/-1", /the database "\/-1"/],
  ["redis://host/0?timeout=5", /query parameters are not supported/],
  ["redis://host/0#top", /a fragment/],
  ["redis://[::1", /lacks its closing \]/],
  ["redis://user@host", /the user name has no password/],
  ["redis://u:%E0%A4%A@host", /the password is not valid percent-encoding/],
];

for (const [url, message] of INVALID) {
  Deno.test(`parseRedisUrl() refuses ${url} and says why`, () => {
    throws(() => parseRedisUrl(url), (error: unknown) => {
      strictEqual(error instanceof TypeError, true);
      strictEqual(message.test((error as Error).message), true, String(error));
      return true;
    });
  });
}

Deno.test("parseRedisUrl() never shows the password in its errors", () => {
  throws(
    () => parseRedisUrl("redis://app:hunter2@host:99999"),
    (error: unknown) =>
      error instanceof TypeError &&
      !error.message.includes("hunter2") &&
      error.message.includes("redis://app:***@host:99999"),
  );
});

Deno.test("redactRedisUrl() masks the password, even of a URL that does not parse", () => {
  strictEqual(
    redactRedisUrl("redis://app:hunter2@host:6379/0"),
    "redis://app:***@host:6379/0",
  );
  strictEqual(redactRedisUrl("redis://:hunter2@host"), "redis://:***@host");
  strictEqual(redactRedisUrl("redis://hunter2@host"), "redis://:***@host");
  strictEqual(
    redactRedisUrl("rediss://a:b@c@host:bad"),
    "rediss://a:***@host:bad",
  );
  strictEqual(redactRedisUrl("redis://host:6379"), "redis://host:6379");
});
