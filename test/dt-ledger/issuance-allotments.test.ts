import { generatePrivateKey, privateKeyToAddress } from "viem/accounts";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DtLedger } from "../../src/dt-ledger/ledger.ts";
import { recoverIssuanceAllotmentSigner } from "../../src/ledger/issuance-allotment.ts";
import { DtLedgerError } from "../../src/ledger/dt-ledger-port.ts";
import { createTestDatabase, type TestDatabase } from "../support/database.ts";
import { BANK_A, GATEWAY, key, migratedLedger, NBK, OPERATOR_KEY, PARTICIPANTS, TestClock } from "./support.ts";

const TOKEN_A = "0x5FbDB2315678afecb367f032d93F642f64180aa3" as const;
const TOKEN_B = "0xe7f1725E7734CE288F8367e1Bb143E90bb3F0512" as const;

describe("issuance allotments signed by the DT ledger", () => {
  let database: TestDatabase;
  let ledger: DtLedger;
  let wallet: string;
  let exchange: string;
  let intake: string;

  beforeAll(async () => {
    database = await createTestDatabase();
    ledger = await migratedLedger(database.db, new TestClock());
    for (const participant of PARTICIPANTS) await ledger.registerParticipant(participant);
    wallet = (await ledger.openAccount(GATEWAY, { idempotencyKey: key(), kind: "segregated_wallet", holderName: "Collateral" })).id;
    intake = (await ledger.openAccount(GATEWAY, { idempotencyKey: key(), kind: "collateral_intake", holderName: "Collateral intake" })).id;
    exchange = (await ledger.openAccount(BANK_A, { idempotencyKey: key(), kind: "individual", holderName: "Exchange" })).id;
    await ledger.issue(NBK, { idempotencyKey: key(), accountId: exchange, amount: 1_000_000n, reference: "conversion" });
  });
  afterAll(() => database.drop());

  const ref = () => `mint:${key()}`;
  const rows = async () => (await database.db.query<{ n: bigint }>("SELECT count(*)::int8 AS n FROM dt_ledger.issuance_allotments")).rows[0]!.n;
  const refusal = async (promise: Promise<unknown>) => {
    try {
      await promise;
    } catch (error) {
      if (error instanceof DtLedgerError) return `${error.code} ${error.message}`;
      throw error;
    }
    throw new Error("expected a refusal");
  };
  // A mint deposit reaches the wallet through the gateway's collateral intake (the wallet takes DT only from its servicer).
  const deposit = async (amount: bigint) => {
    await ledger.transfer(BANK_A, { idempotencyKey: key(), from: exchange, to: intake, amount, reference: "mint" });
    await ledger.transfer(GATEWAY, { idempotencyKey: key(), from: intake, to: wallet, amount, reference: "mint" });
  };

  it("open the book with chains, allot deposits to the chain named, within what the ledger itself counts as credited", async () => {
    await ledger.issuanceAllotment(GATEWAY, { accountId: wallet, reference: ref(), change: { kind: "addChain", chainId: 31338n, token: TOKEN_B } });
    const opened = await ledger.issuanceAllotment(GATEWAY, { accountId: wallet, reference: ref(), change: { kind: "addChain", chainId: 31337n, token: TOKEN_A } });
    expect(opened.allotment.chains.map((entry) => entry.chainId)).toEqual([31337n, 31338n]);
    expect(opened.allotment.sequence).toBe(2n);
    await deposit(700n);
    const credited = await ledger.issuanceAllotment(GATEWAY, { accountId: wallet, reference: ref(), change: { kind: "credit", chainId: 31337n, amount: 700n } });
    expect(credited.allotment).toMatchObject({ account: wallet, sequence: 3n, credited: 700n, moved: 0n });
    expect(credited.allotment.chains.map((entry) => entry.issuanceLimit)).toEqual([700n, 0n]);
    expect(await recoverIssuanceAllotmentSigner(credited.allotment, credited.signature)).toBe(privateKeyToAddress(OPERATOR_KEY));
    expect(credited.signer).toBe(privateKeyToAddress(OPERATOR_KEY));
    // A credit the wallet does not hold is refused, and nothing is kept.
    const before = await rows();
    expect(await refusal(ledger.issuanceAllotment(GATEWAY, { accountId: wallet, reference: ref(), change: { kind: "credit", chainId: 31338n, amount: 1n } })))
      .toBe("ALLOTMENT_EXCEEDS_POOL limits 701 exceed credited 700 + moved 0");
    expect(await rows()).toBe(before);
  });

  it("raise a move's destination and keep every signed allotment, the latest readable for relaying", async () => {
    const moved = await ledger.issuanceAllotment(GATEWAY, { accountId: wallet, reference: ref(), change: { kind: "move", from: 31337n, to: 31338n, amount: 200n } });
    expect(moved.allotment).toMatchObject({ sequence: 4n, credited: 700n, moved: 200n });
    expect(moved.allotment.chains.map((entry) => entry.issuanceLimit)).toEqual([700n, 200n]);
    expect(await ledger.latestIssuanceAllotment(NBK, wallet)).toEqual(moved);
    expect(await ledger.latestIssuanceAllotment(GATEWAY, wallet)).toEqual(moved);
  });

  it("are signed only for the wallet's servicer; another participant is refused and nothing is written", async () => {
    const before = await rows();
    for (const who of [BANK_A, NBK]) {
      expect(await refusal(ledger.issuanceAllotment(who, { accountId: wallet, reference: ref(), change: { kind: "credit", chainId: 31337n, amount: 1n } })))
        .toMatch(/^FORBIDDEN_ACCOUNT /);
    }
    expect(await refusal(ledger.latestIssuanceAllotment(BANK_A, wallet))).toMatch(/^FORBIDDEN_ACCOUNT /);
    expect(await refusal(ledger.issuanceAllotment("STRANGER", { accountId: wallet, reference: ref(), change: { kind: "credit", chainId: 31337n, amount: 1n } })))
      .toMatch(/^UNAUTHENTICATED /);
    expect(await refusal(ledger.latestIssuanceAllotment("STRANGER", wallet))).toMatch(/^UNAUTHENTICATED /);
    expect(await refusal(ledger.issuanceAllotment(GATEWAY, { accountId: wallet, reference: ref(), change: { kind: "credit", chainId: 56n, amount: 1n } })))
      .toBe("ALLOTMENT_UNKNOWN_CHAIN chain 56 has no token in this pool");
    expect(await rows()).toBe(before);
  });

  it("take consecutive sequences when asked concurrently", async () => {
    await deposit(100n);
    const results = await Promise.all(
      Array.from({ length: 4 }, () => ledger.issuanceAllotment(GATEWAY, { accountId: wallet, reference: ref(), change: { kind: "credit", chainId: 31338n, amount: 25n } })),
    );
    expect(results.map((result) => result.allotment.sequence).sort()).toEqual([5n, 6n, 7n, 8n]);
    const latest = await ledger.latestIssuanceAllotment(GATEWAY, wallet);
    expect(latest?.allotment.chains.map((entry) => entry.issuanceLimit)).toEqual([700n, 300n]);
  });

  it("apply a reference once: the same change again answers the first allotment, another change is refused", async () => {
    await deposit(50n);
    const request = { accountId: wallet, reference: ref(), change: { kind: "credit" as const, chainId: 31337n, amount: 50n } };
    const first = await ledger.issuanceAllotment(GATEWAY, request);
    const later = await ledger.issuanceAllotment(GATEWAY, { accountId: wallet, reference: ref(), change: { kind: "addChain", chainId: 56n, token: TOKEN_A } });
    const before = await rows();
    expect(await ledger.issuanceAllotment(GATEWAY, request)).toEqual(first);
    expect(await ledger.latestIssuanceAllotment(GATEWAY, wallet)).toEqual(later);
    expect(await refusal(ledger.issuanceAllotment(GATEWAY, { ...request, change: { ...request.change, amount: 49n } })))
      .toBe(`IDEMPOTENCY_CONFLICT allotment reference ${request.reference} was already used for a different change`);
    expect(await refusal(ledger.issuanceAllotment(GATEWAY, { ...request, change: { kind: "move", from: 31337n, to: 31338n, amount: 50n } })))
      .toMatch(/^IDEMPOTENCY_CONFLICT /);
    // A token spelled in another letter case is the same change.
    const chain = { accountId: wallet, reference: "chain:97:token", change: { kind: "addChain" as const, chainId: 97n, token: TOKEN_B.toLowerCase() as typeof TOKEN_B } };
    const added = await ledger.issuanceAllotment(GATEWAY, chain);
    expect(added.allotment.chains.find((entry) => entry.chainId === 97n)?.token).toBe(TOKEN_B);
    expect(await ledger.issuanceAllotment(GATEWAY, { ...chain, change: { ...chain.change, token: TOKEN_B } })).toEqual(added);
    expect(await rows()).toBe(before + 1n);
  });

  it("apply one reference asked concurrently exactly once", async () => {
    await deposit(10n);
    const request = { accountId: wallet, reference: ref(), change: { kind: "credit" as const, chainId: 31338n, amount: 10n } };
    const before = await rows();
    const results = await Promise.all(Array.from({ length: 4 }, () => ledger.issuanceAllotment(GATEWAY, request)));
    expect(new Set(results.map((result) => result.allotment.sequence)).size).toBe(1);
    expect(await rows()).toBe(before + 1n);
  });

  it("refuse a malformed reference or change, writing nothing", async () => {
    const before = await rows();
    const credit = { kind: "credit" as const, chainId: 31337n, amount: 1n };
    for (const reference of ["", "has space", "x".repeat(129), "ümlaut"]) {
      expect(await refusal(ledger.issuanceAllotment(GATEWAY, { accountId: wallet, reference, change: credit }))).toMatch(/^INVALID_REQUEST reference must be/);
    }
    const bad: unknown[] = [
      { kind: "credit", chainId: 0n, amount: 1n },
      { kind: "credit", chainId: 2n ** 53n, amount: 1n },
      { kind: "credit", chainId: 31337, amount: 1n },
      { kind: "move", from: 31337n, amount: 1n },
      { kind: "addChain", chainId: 5n, token: "0x1234" },
      { kind: "addChain", chainId: 5n, token: "0x0000000000000000000000000000000000000000" },
      { kind: "burn", chainId: 31337n, amount: 1n },
    ];
    for (const change of bad) {
      expect(await refusal(ledger.issuanceAllotment(GATEWAY, { accountId: wallet, reference: ref(), change: change as typeof credit }))).toMatch(/^INVALID_REQUEST /);
    }
    expect(await refusal(ledger.issuanceAllotment(GATEWAY, { accountId: wallet, reference: ref(), change: { ...credit, amount: 0n } }))).toMatch(/^INVALID_AMOUNT /);
    expect(await rows()).toBe(before);
  });

  it("name the key that signed a kept allotment, also after the operator's key changed", async () => {
    const latest = await ledger.latestIssuanceAllotment(GATEWAY, wallet);
    const rotated = new DtLedger({ db: database.db, operatorKey: generatePrivateKey() });
    expect((await rotated.latestIssuanceAllotment(GATEWAY, wallet))?.signer).toBe(privateKeyToAddress(OPERATOR_KEY));
    expect(await rotated.latestIssuanceAllotment(GATEWAY, wallet)).toEqual(latest);
  });
});
