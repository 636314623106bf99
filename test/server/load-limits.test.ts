import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { iso20022RoutesWith } from "../../src/iso20022/routes.ts";
import { BoundedWork, WorkQueueFullError } from "../../src/iso20022/validation/bounded-work.ts";
import { testEngine } from "../support/database.ts";
import { createTestGateway, type TestGateway } from "../support/gateway-app.ts";
import { pacs008Sample, sample } from "../iso20022/fixtures.ts";

describe(`per-principal rate limit on ${testEngine}`, () => {
  let gateway: TestGateway;
  let now = 1_000_000;
  let flooderKey: string;
  let otherKey: string;

  beforeAll(async () => {
    // Three requests at once, then one a second; the clock moves only when the test says so.
    gateway = await createTestGateway({ principalRateLimit: { perSecond: 1, burst: 3 }, clock: () => now });
    flooderKey = (await gateway.identity.issueApiKey(await gateway.identity.createPrincipal("operator", "Flooding operator", "op-flood"))).apiKey;
    otherKey = (await gateway.identity.issueApiKey(await gateway.identity.createPrincipal("operator", "Other operator", "op-other"))).apiKey;
  });
  afterAll(() => gateway.close());

  const register = (key: string, id: string) =>
    gateway.app.inject({ method: "POST", url: "/operator/principals", headers: { authorization: `Bearer ${key}` }, payload: { role: "bank", name: `Bank ${id}`, id, bic: "HSBKKZKX", dtParticipant: "halyk" } });
  const registered = async (prefix: string) =>
    Number((await gateway.testDb.db.query<{ count: string }>("SELECT count(*) AS count FROM identity.principals WHERE id LIKE $1", [`${prefix}%`])).rows[0]!.count);

  it("refuses a flooding principal with 429 and Retry-After, writes nothing for it, and serves another principal and /healthz", async () => {
    const answers = [];
    for (let index = 0; index < 6; index++) answers.push(await register(flooderKey, `flood-${index}`));
    expect(answers.map((answer) => answer.statusCode)).toEqual([201, 201, 201, 429, 429, 429]);
    const refused = answers[3]!;
    expect(refused.json()).toMatchObject({ code: "RATE_LIMITED" });
    expect(Number(refused.headers["retry-after"])).toBeGreaterThanOrEqual(1);
    expect(await registered("flood-")).toBe(3);

    expect((await register(otherKey, "other-0")).statusCode).toBe(201);
    expect((await gateway.app.inject({ url: "/healthz" })).statusCode).toBe(200);

    // A second later one token is back, and only one.
    now += 1000;
    expect((await register(flooderKey, "flood-late-0")).statusCode).toBe(201);
    expect((await register(flooderKey, "flood-late-1")).statusCode).toBe(429);
    expect(await registered("flood-")).toBe(4);
    expect(gateway.logLines.some((line) => line.includes('"rate.limited"') && line.includes("op-flood"))).toBe(true);
  });

  it("counts unauthenticated callers against nobody: they get 401, not 429", async () => {
    const answers = await Promise.all(Array.from({ length: 5 }, () => gateway.app.inject({ method: "POST", url: "/operator/principals", payload: {} })));
    expect(answers.map((answer) => answer.statusCode)).toEqual([401, 401, 401, 401, 401]);
  });
});

describe("bounded work", () => {
  it("runs at most `concurrency` tasks, queues `queue` more in order, and refuses the next with VALIDATION_QUEUE_FULL", async () => {
    const work = new BoundedWork({ concurrency: 1, queue: 2 });
    const order: number[] = [];
    const gates: (() => void)[] = [];
    const task = (id: number) => () => new Promise<number>((resolve) => gates.push(() => (order.push(id), resolve(id))));
    const first = work.run(task(1));
    const second = work.run(task(2));
    const third = work.run(task(3));
    await expect(work.run(task(4))).rejects.toBeInstanceOf(WorkQueueFullError);
    expect([work.running, work.queued]).toEqual([1, 2]);
    expect(gates).toHaveLength(1);
    gates[0]!();
    expect(await first).toBe(1);
    await Promise.resolve();
    gates[1]!();
    expect(await second).toBe(2);
    await Promise.resolve();
    gates[2]!();
    expect(await third).toBe(3);
    expect(order).toEqual([1, 2, 3]);
    expect([work.running, work.queued]).toEqual([0, 0]);
  });

  it("frees the slot when a task fails", async () => {
    const work = new BoundedWork({ concurrency: 1, queue: 0 });
    await expect(work.run(async () => Promise.reject(new Error("boom")))).rejects.toThrow("boom");
    expect(await work.run(async () => 7)).toBe(7);
  });
});

describe(`ISO 20022 validation behind a bounded queue on ${testEngine}`, () => {
  let gateway: TestGateway;
  let bankKey: string;

  beforeAll(async () => {
    gateway = await createTestGateway({ features: [iso20022RoutesWith({ concurrency: 1, queue: 1 })], bodyLimitBytes: 2 * 1024 * 1024 });
    bankKey = (await gateway.identity.issueApiKey(await gateway.identity.createPrincipal("bank", "Bank A", "bank-a"))).apiKey;
  });
  afterAll(() => gateway.close());

  const validate = (payload: string) =>
    gateway.app.inject({ method: "POST", url: "/iso20022/validate", headers: { "content-type": "application/xml", authorization: `Bearer ${bankKey}` }, payload });

  it("validates in a worker thread and reports as before", async () => {
    const response = await validate(sample(pacs008Sample));
    expect(response.statusCode).toBe(200);
    expect(response.json()).toEqual({ messageType: "pacs.008.001.08", profile: "cbpr+", release: "SR2026", valid: true, errors: [], warnings: [] });
  });

  it("reports the safe reader's refusal from the worker as before", async () => {
    const response = await validate('<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "b">]><Document>&a;</Document>');
    expect(response.statusCode).toBe(200);
    expect(response.json()).toMatchObject({ valid: false, errors: [{ code: "XML_DTD_FORBIDDEN" }] });
  });

  it("answers 503 VALIDATION_QUEUE_FULL with Retry-After beyond one running and one queued", async () => {
    const large = sample(pacs008Sample).replace("<Nm>C Consumer</Nm>", `<Nm>${"A".repeat(900_000)}</Nm>`);
    // Sixteen at once, as the red team sent: enough that some arrive while one runs and one waits, even when a
    // loaded machine lets the worker finish each document quickly relative to the main thread.
    const answers = await Promise.all(Array.from({ length: 16 }, () => validate(large)));
    const busy = answers.filter((answer) => answer.statusCode === 503);
    expect(answers.filter((answer) => answer.statusCode === 200).length).toBeGreaterThanOrEqual(1);
    expect(busy.length).toBeGreaterThanOrEqual(1);
    expect(busy.length + answers.filter((answer) => answer.statusCode === 200).length).toBe(16);
    expect(busy[0]!.json()).toMatchObject({ code: "VALIDATION_QUEUE_FULL" });
    expect(busy[0]!.headers["retry-after"]).toBe("1");
  });
});
