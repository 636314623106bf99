import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { iso20022Routes } from "../../src/iso20022/routes.ts";
import { createTestGateway, type TestGateway } from "../support/gateway-app.ts";
import { pacs008Sample, sample } from "./fixtures.ts";

let gateway: TestGateway;
let correspondentKey: string;

beforeAll(async () => {
  gateway = await createTestGateway({ features: [iso20022Routes] });
  const correspondent = await gateway.identity.createPrincipal("correspondent", "People's Bank of China", "pboc");
  correspondentKey = (await gateway.identity.issueApiKey(correspondent)).apiKey;
});
afterAll(() => gateway.close());

const validate = (payload: string, headers: Record<string, string> = {}) =>
  gateway.app.inject({ method: "POST", url: "/iso20022/validate", headers: { "content-type": "application/xml", ...headers }, payload });

describe("POST /iso20022/validate on the gateway server", () => {
  it("asks for credentials", async () => {
    expect((await validate(sample(pacs008Sample))).statusCode).toBe(401);
  });

  it("validates for a correspondent bank", async () => {
    const response = await validate(sample(pacs008Sample), { authorization: `Bearer ${correspondentKey}` });
    expect(response.statusCode).toBe(200);
    expect(response.json()).toEqual({ messageType: "pacs.008.001.08", profile: "cbpr+", release: "SR2026", valid: true, errors: [], warnings: [] });
  });

  it("refuses an oversized body with XML_TOO_LARGE", async () => {
    const huge = sample(pacs008Sample).replace("<Nm>C Consumer</Nm>", `<Nm>${"A".repeat(2_000_000)}</Nm>`);
    const response = await validate(huge, { authorization: `Bearer ${correspondentKey}` });
    expect(response.statusCode).toBe(413);
    expect(response.json()).toMatchObject({ code: "XML_TOO_LARGE" });
  });

  it("is in the OpenAPI document", async () => {
    const openapi = (await gateway.app.inject({ url: "/docs/json" })).json() as { paths: Record<string, unknown> };
    expect(openapi.paths).toHaveProperty("/iso20022/validate");
  });
});
