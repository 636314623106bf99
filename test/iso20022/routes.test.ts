import Fastify, { type FastifyInstance } from "fastify";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { iso20022Routes } from "../../src/iso20022/routes.ts";
import { clearingDeclaredAsCbpr, pacs008Sample, sample } from "./fixtures.ts";

describe("POST /iso20022/validate", () => {
  let app: FastifyInstance;
  const routeConfigs = new Map<string, unknown>();

  beforeAll(async () => {
    app = Fastify();
    app.addContentTypeParser(["application/xml", "text/xml"], { parseAs: "string" }, (_request, body, done) => done(null, body));
    app.addHook("onRoute", (route) => {
      routeConfigs.set(`${String(route.method)} ${route.url}`, route.config);
    });
    await app.register(iso20022Routes);
    await app.ready();
  });
  afterAll(() => app.close());

  const post = (payload: string, contentType = "application/xml") =>
    app.inject({ method: "POST", url: "/iso20022/validate", headers: { "content-type": contentType }, payload });

  it("declares who may call it", () => {
    expect(routeConfigs.get("POST /iso20022/validate")).toEqual({ access: ["operator", "bank", "correspondent", "exchange"] });
  });

  it("returns the validation report of a valid message", async () => {
    const response = await post(sample(pacs008Sample));
    expect(response.statusCode).toBe(200);
    expect(response.json()).toEqual({ messageType: "pacs.008.001.08", valid: true, errors: [] });
  });

  it("returns the findings of an invalid message (text/xml too)", async () => {
    const response = await post(clearingDeclaredAsCbpr(), "text/xml");
    expect(response.statusCode).toBe(200);
    expect(response.json()).toMatchObject({ valid: false, errors: [{ code: "CBPR_SETTLEMENT_METHOD" }] });
  });

  it("refuses an entity bomb with XML_DTD_FORBIDDEN", async () => {
    const response = await post('<?xml version="1.0"?><!DOCTYPE a [<!ENTITY b "c">]><Document>&b;</Document>');
    expect(response.json()).toEqual({ messageType: null, valid: false, errors: [{ code: "XML_DTD_FORBIDDEN", path: expect.any(String), message: expect.any(String) }] });
  });

  it("refuses a body over the size limit with XML_TOO_LARGE, without reading it all", async () => {
    const response = await post(sample(pacs008Sample).replace("<Nm>C Consumer</Nm>", `<Nm>${"A".repeat(2_000_000)}</Nm>`));
    expect(response.statusCode).toBe(413);
    expect(response.json()).toEqual({ code: "XML_TOO_LARGE", message: expect.any(String) });
  });

  it("asks for XML when given JSON", async () => {
    const response = await app.inject({ method: "POST", url: "/iso20022/validate", payload: { xml: "<Document/>" } });
    expect(response.statusCode).toBe(400);
    expect(response.json().message).toBe("body must be string");
  });
});
