import Fastify, { type FastifyInstance } from "fastify";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { iso20022Routes } from "../../src/iso20022/routes.ts";
import { installErrorHandler } from "../../src/server/errors.ts";
import { clearingDeclaredAsCbpr, pacs008Sample, sample } from "./fixtures.ts";

describe("POST /iso20022/validate", () => {
  let app: FastifyInstance;
  const routeConfigs = new Map<string, unknown>();

  beforeAll(async () => {
    app = Fastify();
    // Routes throw coded errors; the gateway's one handler gives them their status.
    installErrorHandler(app);
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
    expect(response.json()).toEqual({ messageType: "pacs.008.001.08", profile: "cbpr+", release: "SR2026", valid: true, errors: [], warnings: [] });
  });

  it("returns the findings of an invalid message (text/xml too)", async () => {
    const response = await post(clearingDeclaredAsCbpr(), "text/xml");
    expect(response.statusCode).toBe(200);
    expect(response.json()).toMatchObject({ valid: false, errors: [{ code: "CBPR_SETTLEMENT_METHOD" }] });
  });

  it("takes the profile as a query parameter: iso holds a message to the XSDs only, hvps+ allows clearing", async () => {
    const headerless = sample(pacs008Sample).replace(/<AppHdr[\s\S]*<\/AppHdr>/, "");
    const asCbpr = await post(headerless);
    expect(asCbpr.json()).toMatchObject({ profile: "cbpr+", release: "SR2026", valid: false, errors: [{ code: "CBPR_HEADER_MISSING" }] });
    const asIso = await app.inject({ method: "POST", url: "/iso20022/validate?profile=iso", headers: { "content-type": "application/xml" }, payload: headerless });
    expect(asIso.json()).toEqual({ messageType: "pacs.008.001.08", profile: "iso", release: null, valid: true, errors: [], warnings: [] });
    const asHvps = await app.inject({ method: "POST", url: "/iso20022/validate?profile=hvps%2B", headers: { "content-type": "application/xml" }, payload: clearingDeclaredAsCbpr() });
    expect(asHvps.json()).toMatchObject({ profile: "hvps+", valid: true, errors: [] });
  });

  it("reports warnings beside a valid message, and ?strict=true counts them as errors", async () => {
    const differentId = sample(pacs008Sample).replace("<BizMsgIdr>pacs8bizmsgidr01", "<BizMsgIdr>another-id");
    const lenient = await post(differentId);
    expect(lenient.json()).toMatchObject({ valid: true, errors: [], warnings: [{ code: "CBPR_BAH_BIZMSGIDR", severity: "warning", path: "/AppHdr/BizMsgIdr" }] });
    const strict = await app.inject({ method: "POST", url: "/iso20022/validate?strict=true", headers: { "content-type": "application/xml" }, payload: differentId });
    expect(strict.json()).toMatchObject({ valid: false, errors: [{ code: "CBPR_BAH_BIZMSGIDR", severity: "error" }], warnings: [] });
  });

  it("refuses an unknown profile with a code instead of validating under another one", async () => {
    const response = await app.inject({ method: "POST", url: "/iso20022/validate?profile=fedwire", headers: { "content-type": "application/xml" }, payload: sample(pacs008Sample) });
    expect(response.statusCode).toBe(400);
    expect(response.json()).toMatchObject({ code: "ISO20022_PROFILE_UNKNOWN" });
  });

  it("refuses an entity bomb with XML_DTD_FORBIDDEN", async () => {
    const response = await post('<?xml version="1.0"?><!DOCTYPE a [<!ENTITY b "c">]><Document>&b;</Document>');
    expect(response.json()).toEqual({
      messageType: null,
      profile: "cbpr+",
      release: "SR2026",
      valid: false,
      errors: [{ code: "XML_DTD_FORBIDDEN", severity: "error", path: expect.any(String), message: expect.any(String) }],
      warnings: [],
    });
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
