// End to end: start `sealpost dev` on a free loopback port, send a message through the
// typed client and follow its events until it is delivered to dev's mail catcher.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { once } from "node:events";
import { createSealpostClient, type components } from "../index.js";

interface Dev {
  baseUrl: string;
  apiKey: string;
  stop(): Promise<void>;
}

// startDev runs the binary named by SEALPOST_BIN and reads the API address and key from
// what it prints. dev refuses SEALPOST_* settings, so none are passed on.
async function startDev(): Promise<Dev> {
  const bin = process.env.SEALPOST_BIN;
  assert.ok(bin, "SEALPOST_BIN must name a built sealpost binary (scripts/test-typescript.sh sets it)");
  const dir = mkdtempSync(join(tmpdir(), "sealpost-ts-"));
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith("SEALPOST_")));
  const child: ChildProcess = spawn(bin, ["dev", "--listen", "127.0.0.1:0", "--data", join(dir, "data")], {
    env,
    stdio: ["ignore", "pipe", "pipe"],
  });
  let out = "";
  let log = "";
  child.stderr!.on("data", (b: Buffer) => (log += b.toString()));
  const printed = new Promise<{ baseUrl: string; apiKey: string }>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`sealpost dev printed no API key in 60s:\n${out}\n${log}`)), 60_000);
    child.stdout!.on("data", (b: Buffer) => {
      out += b.toString();
      const base = /(http:\/\/127\.0\.0\.1:\d+)\/v1\b/.exec(out);
      const key = /Authorization: Bearer ([^'"\s]+)/.exec(out);
      if (base?.[1] && key?.[1]) {
        clearTimeout(timer);
        resolve({ baseUrl: base[1], apiKey: key[1] });
      }
    });
    child.once("exit", (code) => reject(new Error(`sealpost dev exited (${code}):\n${out}\n${log}`)));
  });
  const stop = async () => {
    if (child.exitCode === null) {
      const exited = once(child, "exit");
      child.kill("SIGTERM");
      await exited;
    }
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    return { ...(await printed), stop };
  } catch (e) {
    await stop();
    throw e;
  }
}

let dev: Dev;
before(async () => {
  dev = await startDev();
});
after(async () => {
  await dev?.stop();
});

test("send through the TypeScript client and follow the events to delivered", { timeout: 120_000 }, async () => {
  const client = createSealpostClient({ baseUrl: dev.baseUrl, apiKey: dev.apiKey });

  const sent = await client.POST("/v1/messages", {
    body: {
      from: "Clinic <noreply@example.com>",
      to: ["patient@example.org"],
      subject: "Your results are ready",
      text: "Hello from the TypeScript client.",
    },
  });
  assert.equal(sent.response.status, 202, JSON.stringify(sent.error));
  assert.ok(sent.data, "a 202 carries the message");
  const id = sent.data.id;
  assert.equal(sent.data.status, "accepted");
  assert.equal(sent.data.recipients.length, 1);

  // A bad request is a typed problem with field paths.
  const bad = await client.POST("/v1/messages", {
    body: { from: "Clinic <noreply@example.com>", to: ["not an address"], subject: "x", text: "x" },
  });
  assert.ok(bad.response.status >= 400 && bad.response.status < 500, `refused with ${bad.response.status}`);
  assert.ok(bad.error?.errors?.some((e) => e.field === "to[0]"), JSON.stringify(bad.error));

  // Follow the timeline with the cursor until the delivered event.
  const seen: components["schemas"]["EventView"]["type"][] = [];
  let cursor: string | undefined;
  const deadline = Date.now() + 60_000;
  while (!seen.includes("delivered")) {
    assert.ok(Date.now() < deadline, `no delivered event in 60s; saw ${seen.join(", ")}`);
    const page = await client.GET("/v1/events", { params: { query: { message: id, cursor } } });
    assert.equal(page.response.status, 200, JSON.stringify(page.error));
    assert.ok(page.data);
    for (const ev of page.data.events) {
      assert.equal(ev.message_id, id);
      seen.push(ev.type);
    }
    cursor = page.data.next_cursor;
    if (!seen.includes("delivered")) await new Promise((r) => setTimeout(r, 200));
  }
  assert.deepEqual(seen.slice(0, 2), ["accepted", "queued"]);

  const msg = await client.GET("/v1/messages/{id}", { params: { path: { id } } });
  assert.equal(msg.response.status, 200, JSON.stringify(msg.error));
  assert.equal(msg.data?.id, id);
});

test("a wrong key is refused with a problem", async () => {
  const client = createSealpostClient({ baseUrl: dev.baseUrl, apiKey: "sp_live_wrong" });
  const r = await client.GET("/v1/events", {});
  assert.equal(r.response.status, 401);
  assert.equal(r.error?.status, 401);
});
