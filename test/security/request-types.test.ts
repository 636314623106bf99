import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createStablecoinWorld, startGatewayOn, type GatewayUnderTest, type StablecoinWorld } from "../stablecoin/support.ts";

/**
 * JSON keeps its types: an amount is a decimal string, and nothing is coerced into one. With ajv's
 * `coerceTypes: "array"` each refused body below used to create a mint (the last one silently rounded).
 */
describe("strict request types", () => {
  let world: StablecoinWorld;
  let gateway: GatewayUnderTest;
  const bearer = () => ({ authorization: `Bearer ${world.exchangeApiKey}`, "content-type": "application/json" });
  const mintCount = async () => (await world.db.query<{ n: bigint }>("SELECT count(*)::int8 AS n FROM stablecoin.mint_requests")).rows[0]!.n;

  beforeAll(async () => {
    world = await createStablecoinWorld();
    gateway = await startGatewayOn(world, { start: false });
  }, 120_000);
  afterAll(async () => {
    await gateway?.close();
    await world?.close();
  });

  it.each([
    ["a JSON number", '{"amount":5}'],
    ["an array holding the string", '{"amount":["5"]}'],
    ["a number beyond double precision", '{"amount":1234567890123456.7}'],
    ["a boolean", '{"amount":true}'],
    ["null", '{"amount":null}'],
  ])("refuses %s as an amount with 400 INVALID_AMOUNT (docs/stablecoin.md) and creates no mint", async (_name, payload) => {
    const before = await mintCount();
    const response = await gateway.app.inject({ method: "POST", url: "/stablecoin/mints", headers: bearer(), payload });
    expect(response.statusCode).toBe(400);
    expect(response.json().code).toBe("INVALID_AMOUNT");
    expect(await mintCount()).toBe(before);
  });

  it("accepts the amount as a decimal string", async () => {
    const before = await mintCount();
    const response = await gateway.app.inject({ method: "POST", url: "/stablecoin/mints", headers: bearer(), payload: '{"amount":"5.00"}' });
    expect(response.statusCode).toBe(201);
    expect(response.json().amount).toBe("5.00");
    expect(await mintCount()).toBe(before + 1n);
  });

  it("reads integer query parameters only from canonical decimal digits", async () => {
    const list = (query: string) => gateway.app.inject({ method: "GET", url: `/stablecoin/mints?${query}`, headers: bearer() });
    expect((await list("limit=10")).statusCode).toBe(200);
    for (const query of ["limit=0x10", "limit=1e1", "limit=%2010", "limit=10&limit=10", "limit=010", "limit=true"]) {
      const response = await list(query);
      expect([query, response.statusCode, response.json().code]).toEqual([query, 400, "INVALID_REQUEST"]);
    }
  });
});
