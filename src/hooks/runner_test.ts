import { deepStrictEqual, ok, strictEqual } from "node:assert/strict";
import type { ConnectPacket, PublishPacket } from "../../packets/types.ts";
import { ReasonCode } from "../../packets/reason_code.ts";
import { HookRunner } from "./runner.ts";
import type { ClientInfo, Hooks } from "./hooks.ts";
import { Logger, type LogRecord } from "../observe/logger.ts";
import type { Message } from "../message.ts";

const CLIENT: ClientInfo = {
  remoteAddress: "127.0.0.1:1",
  localAddress: "127.0.0.1:1883",
  transport: "stream",
  listener: "",
  clientId: "c",
  username: undefined,
  protocolVersion: 5,
  clean: true,
  keepAlive: 60,
};
const CONNECT: ConnectPacket = {
  type: "connect",
  protocolName: "MQTT",
  protocolVersion: 5,
  clientId: "c",
  clean: true,
  keepAlive: 60,
};
const PUBLISH: PublishPacket = {
  type: "publish",
  topic: "a/b",
  payload: new Uint8Array(),
  qos: 0,
  retain: false,
  dup: false,
};
const MESSAGE: Message = {
  topic: "a/b",
  payload: new Uint8Array(),
  qos: 0,
  retain: false,
  createdAt: 0,
};

/** A runner for hooks written in JavaScript, which may answer anything. */
function runner(hooks: unknown): { run: HookRunner; errors: string[] } {
  const errors: string[] = [];
  const logger = new Logger("broker", "error", {
    handlers: [{
      handle: (record: LogRecord) => {
        const error = record.fields.error;
        errors.push(
          `${record.msg}: ${error instanceof Error ? error.message : error}`,
        );
      },
    }],
  });
  return { run: new HookRunner([hooks as Hooks], logger), errors };
}

for (const answer of [5, 0x7f, 0xff, "deny", true, null, {}]) {
  const shown = JSON.stringify(answer);
  Deno.test(`HookRunner.checkPublish() refuses with 0x80 and logs a hook answering ${shown}`, async () => {
    const { run, errors } = runner({ checkPublish: () => answer });
    strictEqual(run.checkPublish(CLIENT, PUBLISH), ReasonCode.UnspecifiedError);
    strictEqual(errors.length, 1);
    ok(errors[0]!.startsWith("hook failed: Cannot use checkPublish's answer"));
    const async = runner({ checkPublish: () => Promise.resolve(answer) });
    strictEqual(
      await async.run.checkPublish(CLIENT, PUBLISH),
      ReasonCode.UnspecifiedError,
    );
    strictEqual(async.errors.length, 1);
  });
}

Deno.test("HookRunner.checkPublish(), checkUnsubscribe(), checkConnect() and mayDeliver() take 0 (Success) from a JavaScript hook as going ahead", () => {
  const answers = { checkPublish: 0, checkUnsubscribe: 0, checkConnect: 0 };
  const { run, errors } = runner({
    checkPublish: () => answers.checkPublish,
    checkUnsubscribe: () => answers.checkUnsubscribe,
    checkConnect: () => answers.checkConnect,
    checkDeliver: () => 0,
  });
  strictEqual(run.checkPublish(CLIENT, PUBLISH), undefined);
  strictEqual(run.checkUnsubscribe(CLIENT, "a/#"), undefined);
  strictEqual(run.checkConnect(CLIENT, CONNECT), undefined);
  strictEqual(run.mayDeliver(CLIENT, MESSAGE), true);
  deepStrictEqual(errors, []);
});

Deno.test("HookRunner.checkPublish() passes on a refusal code and on undefined", async () => {
  const { run, errors } = runner({
    checkPublish: () => ReasonCode.QuotaExceeded,
  });
  strictEqual(run.checkPublish(CLIENT, PUBLISH), ReasonCode.QuotaExceeded);
  const allow = runner({ checkPublish: () => Promise.resolve(undefined) });
  strictEqual(await allow.run.checkPublish(CLIENT, PUBLISH), undefined);
  deepStrictEqual([...errors, ...allow.errors], []);
});

Deno.test("HookRunner.checkPublish() does not ask later hooks after a bad answer", () => {
  let asked = false;
  const errors: string[] = [];
  const logger = new Logger("broker", "error", {
    handlers: [{ handle: (r: LogRecord) => void errors.push(r.msg) }],
  });
  const run = new HookRunner([
    { checkPublish: () => 3 } as unknown as Hooks,
    { checkPublish: () => void (asked = true) },
  ], logger);
  strictEqual(run.checkPublish(CLIENT, PUBLISH), ReasonCode.UnspecifiedError);
  strictEqual(asked, false);
  deepStrictEqual(errors, ["hook failed"]);
});

Deno.test("HookRunner.checkUnsubscribe() refuses with 0x80 and logs a hook answering 5", () => {
  const { run, errors } = runner({ checkUnsubscribe: () => 5 });
  strictEqual(run.checkUnsubscribe(CLIENT, "a/#"), ReasonCode.UnspecifiedError);
  deepStrictEqual(errors, [
    "hook failed: Cannot use checkUnsubscribe's answer: 5 (0x05) is not a reason code of 0x80 and above, or undefined; refused with unspecified_error (0x80)",
  ]);
});

Deno.test("HookRunner.checkConnect() takes a 3.1.1 return code as the matching 5.0 code", () => {
  const expected = [
    [1, ReasonCode.UnsupportedProtocolVersion],
    [2, ReasonCode.ClientIdentifierNotValid],
    [3, ReasonCode.ServerUnavailable],
    [4, ReasonCode.BadUserNameOrPassword],
    [5, ReasonCode.NotAuthorized],
    [ReasonCode.Banned, ReasonCode.Banned],
    [undefined, undefined],
  ];
  for (const [answer, code] of expected) {
    const { run, errors } = runner({ checkConnect: () => answer });
    strictEqual(run.checkConnect(CLIENT, CONNECT), code, `answer ${answer}`);
    deepStrictEqual(errors, []);
  }
});

Deno.test("HookRunner.checkConnect() refuses with 0x80 and logs a hook answering 6", () => {
  for (const answer of [6]) {
    const { run, errors } = runner({ checkConnect: () => answer });
    strictEqual(run.checkConnect(CLIENT, CONNECT), ReasonCode.UnspecifiedError);
    strictEqual(errors.length, 1);
    ok(errors[0]!.includes("a 3.1.1 return code from 1 to 5"), errors[0]);
  }
});

Deno.test("HookRunner.checkSubscribe() takes a QoS, a grant or a refusal and refuses anything else", async () => {
  const sub = { topicFilter: "a/#", qos: 2 as const };
  const cases: [unknown, unknown][] = [
    [1, { code: 1, checkDeliver: false }],
    [{ qos: 0, checkDeliver: true }, { code: 0, checkDeliver: true }],
    [ReasonCode.NotAuthorized, {
      code: ReasonCode.NotAuthorized,
      checkDeliver: false,
    }],
    [undefined, { code: undefined, checkDeliver: false }],
  ];
  for (const [answer, decision] of cases) {
    const { run, errors } = runner({ checkSubscribe: () => answer });
    deepStrictEqual(await run.checkSubscribe(CLIENT, sub), decision);
    deepStrictEqual(errors, []);
  }
  for (const answer of [3, 0x11, { qos: 3 }, "deny"]) {
    const { run, errors } = runner({ checkSubscribe: () => answer });
    deepStrictEqual(await run.checkSubscribe(CLIENT, sub), {
      code: ReasonCode.UnspecifiedError,
      checkDeliver: false,
    });
    strictEqual(errors.length, 1, JSON.stringify(answer));
  }
});

Deno.test("HookRunner.mayDeliver() withholds and logs on an answer under 0x80", () => {
  const { run, errors } = runner({ checkDeliver: () => 5 });
  strictEqual(run.mayDeliver(CLIENT, MESSAGE), false);
  deepStrictEqual(errors, [
    "hook failed: Cannot use checkDeliver's answer: 5 (0x05) is not a reason code of 0x80 and above, or undefined; refused with unspecified_error (0x80)",
  ]);
  const refusing = runner({ checkDeliver: () => ReasonCode.NotAuthorized });
  strictEqual(refusing.run.mayDeliver(CLIENT, MESSAGE), false);
  deepStrictEqual(refusing.errors, []);
  strictEqual(
    runner({ checkDeliver: () => undefined }).run.mayDeliver(
      CLIENT,
      MESSAGE,
    ),
    true,
  );
});
