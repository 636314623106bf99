import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestGateway, type TestGateway } from "../support/gateway-app.ts";

/**
 * Principals act for institutions: the operator API refuses a bank, correspondent or exchange without
 * its BIC (and a bank without its DT participant), and only operators register which foreign-ledger
 * accounts belong to which institution.
 */
describe("institutions: principals are bound to a BIC, foreign accounts registered by operators only", () => {
  let gateway: TestGateway;
  let operator: Record<string, string>;
  let bank: Record<string, string>;

  beforeAll(async () => {
    gateway = await createTestGateway();
    await gateway.identity.createPrincipal("operator", "Ops", "ops");
    await gateway.identity.createPrincipal("bank", "Halyk Bank", "halyk", { bic: "HSBKKZKX", dtParticipant: "HSBKKZKX" });
    operator = { authorization: `Bearer ${(await gateway.identity.issueApiKey("ops")).apiKey}` };
    bank = { authorization: `Bearer ${(await gateway.identity.issueApiKey("halyk")).apiKey}` };
  }, 60_000);

  afterAll(async () => {
    await gateway?.close();
  });

  const principals = async () => (await gateway.identity.list()).map((principal) => principal.id);
  const register = (payload: Record<string, unknown>) => gateway.app.inject({ method: "POST", url: "/operator/principals", headers: operator, payload });

  it.each([
    [{ role: "bank", name: "No BIC", id: "p1", dtParticipant: "HSBKKZKX" }, 400, "INSTITUTION_REQUIRED"],
    [{ role: "bank", name: "No participant", id: "p2", bic: "HSBKKZKX" }, 400, "INSTITUTION_REQUIRED"],
    [{ role: "correspondent", name: "No BIC", id: "p3" }, 400, "INSTITUTION_REQUIRED"],
    [{ role: "exchange", name: "No BIC", id: "p4" }, 400, "INSTITUTION_REQUIRED"],
    [{ role: "correspondent", name: "With participant", id: "p5", bic: "FCBKAEAD", dtParticipant: "X" }, 400, "INSTITUTION_NOT_ALLOWED"],
    [{ role: "operator", name: "With BIC", id: "p6", bic: "HSBKKZKX" }, 400, "INSTITUTION_NOT_ALLOWED"],
  ] as const)("refuses %j with %i %s and registers nothing", async (payload, status, code) => {
    const before = await principals();
    const answer = await register(payload);
    expect([answer.statusCode, answer.json().code]).toEqual([status, code]);
    expect(await principals()).toEqual(before);
  });

  it("registers a bank with its BIC and DT participant; its requests carry the institution", async () => {
    const answer = await register({ role: "bank", name: "Bank CenterCredit", id: "centercredit", bic: "KCJBKZKX", dtParticipant: "KCJBKZKX" });
    expect(answer.statusCode).toBe(201);
    expect(answer.json().institution).toEqual({ bic: "KCJBKZKX", dtParticipant: "KCJBKZKX" });
    const { apiKey } = await gateway.identity.issueApiKey("centercredit");
    expect((await gateway.identity.authenticateApiKey(apiKey))?.institution).toEqual({ bic: "KCJBKZKX", dtParticipant: "KCJBKZKX" });
  });

  it("only operators register foreign-ledger accounts; an account has one owner per ledger", async () => {
    const account = "0xAbCdEf0123456789abcdef0123456789ABCDEF01";
    const path = "/operator/institutions/HSBKKZKX/ledger-accounts";
    const byBank = await gateway.app.inject({ method: "POST", url: path, headers: bank, payload: { ledger: "evm", account } });
    expect(byBank.statusCode).toBe(403);
    expect(await gateway.identity.ledgerAccountOwner("evm", account)).toBeUndefined();
    expect((await gateway.app.inject({ method: "POST", url: path, headers: operator, payload: { ledger: "evm", account } })).statusCode).toBe(201);
    expect(await gateway.identity.ledgerAccountOwner("evm", account.toLowerCase())).toBe("HSBKKZKX");
    const taken = await gateway.app.inject({ method: "POST", url: "/operator/institutions/KCJBKZKX/ledger-accounts", headers: operator, payload: { ledger: "evm", account } });
    expect([taken.statusCode, taken.json().code]).toEqual([409, "LEDGER_ACCOUNT_TAKEN"]);
    const listed = await gateway.app.inject({ url: path, headers: operator });
    expect(listed.json().items).toEqual([{ ledger: "evm", account: account.toLowerCase() }]);
  });
  it("a public key belongs to one institution: registering it for another is 409 with nothing written", async () => {
    await gateway.identity.createPrincipal("correspondent", "First Central Bank", "fcb", { bic: "FCBKAEAD" });
    await gateway.identity.createPrincipal("correspondent", "Evil Central Bank", "evil", { bic: "EVILAEAD" });
    const publicKey = "11".repeat(32);
    const signingKey = (principal: string, keyId: string) =>
      gateway.app.inject({ method: "POST", url: `/operator/principals/${principal}/signing-keys`, headers: operator, payload: { publicKey, keyId } });
    expect((await signingKey("fcb", "fcb-1")).statusCode).toBe(201);
    const keys = async () => (await gateway.identity.list()).flatMap((principal) => principal.credentials.map((credential) => credential.id));
    const before = await keys();
    const taken = await signingKey("evil", "evil-1");
    expect([taken.statusCode, taken.json().code]).toEqual([409, "PUBLIC_KEY_TAKEN"]);
    // The same key in base64 is the same key.
    const base64 = await gateway.app.inject({ method: "POST", url: "/operator/principals/evil/signing-keys", headers: operator, payload: { publicKey: Buffer.from(publicKey, "hex").toString("base64"), keyId: "evil-2" } });
    expect([base64.statusCode, base64.json().code]).toEqual([409, "PUBLIC_KEY_TAKEN"]);
    expect(await keys()).toEqual(before);
    // Revoking it does not free it for another institution.
    await gateway.identity.revokeCredential("fcb-1");
    expect((await signingKey("evil", "evil-3")).statusCode).toBe(409);
  });
});
