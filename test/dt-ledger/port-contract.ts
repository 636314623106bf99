import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DtLedgerError, type DtLedgerErrorCode, type DtLedgerPort } from "../../src/ledger/dt-ledger-port.ts";
import type { DtLedger } from "../../src/dt-ledger/ledger.ts";
import { recoverCollateralStatementSigner } from "../../src/ledger/collateral-statement.ts";
import { recoverIssuanceAllotmentSigner } from "../../src/ledger/issuance-allotment.ts";
import { BANK_A, BANK_B, GATEWAY, key, NBK, newSecret, type TestClock } from "./support.ts";

/** What a contract run needs: the ledger behind the port (for setup) and a port per participant. */
export interface ContractHarness {
  ledger: DtLedger;
  clock: TestClock;
  portFor(participantId: string): DtLedgerPort;
  close(): Promise<void>;
}

async function refusal(promise: Promise<unknown>): Promise<DtLedgerErrorCode> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof DtLedgerError) return error.code;
    throw error;
  }
  throw new Error("expected a DtLedgerError, the call succeeded");
}

const HOUR = 3_600_000;

/** The DtLedgerPort contract; every adapter must pass it unchanged. */
export function dtLedgerPortContract(adapter: string, createHarness: () => Promise<ContractHarness>): void {
  describe(`DtLedgerPort contract (${adapter})`, () => {
    let harness: ContractHarness;
    let bankA: DtLedgerPort;
    let bankB: DtLedgerPort;
    let gateway: DtLedgerPort;
    let nbk: DtLedgerPort;

    beforeAll(async () => {
      harness = await createHarness();
      bankA = harness.portFor(BANK_A);
      bankB = harness.portFor(BANK_B);
      gateway = harness.portFor(GATEWAY);
      nbk = harness.portFor(NBK);
    });
    afterAll(() => harness.close());

    /** An open account of bank A's (or B's) customer, funded by the NBK. */
    async function funded(port: DtLedgerPort, participantId: string, amount: bigint, kind: "individual" | "legal_entity" | "exchange" = "individual") {
      const account = await port.openAccount({ idempotencyKey: key(), kind, holderName: `Customer ${key()}` });
      if (amount > 0n) await harness.ledger.issue(NBK, { idempotencyKey: key(), accountId: account.id, amount, reference: "conversion" });
      expect(account.participantId).toBe(participantId);
      return account.id;
    }

    async function balances(port: DtLedgerPort, ...accounts: string[]) {
      return Promise.all(accounts.map(async (account) => {
        const balance = await port.balance(account);
        return { available: balance.available, held: balance.held };
      }));
    }

    describe("accounts", () => {
      it("opens a digital account for the participant's customer, once per idempotency key", async () => {
        const request = { idempotencyKey: key(), kind: "individual" as const, holderName: "Aigerim Nurlanovna" };
        const opened = await bankA.openAccount(request);
        expect(opened).toMatchObject({ participantId: BANK_A, kind: "individual", holderName: "Aigerim Nurlanovna", status: "open" });
        const again = await bankA.openAccount(request);
        expect(again.id).toBe(opened.id);
        expect(await bankA.balance(opened.id)).toMatchObject({ accountId: opened.id, available: 0n, held: 0n });
        expect(await bankA.account(opened.id)).toEqual(opened);
        expect(await nbk.account(opened.id)).toEqual(opened);
      });

      it("shows an account's holder, kind and status only to its servicing participant and the central bank", async () => {
        const opened = await bankB.openAccount({ idempotencyKey: key(), kind: "legal_entity", holderName: "Serviced by B" });
        expect(await refusal(bankA.account(opened.id))).toBe("FORBIDDEN_ACCOUNT");
        expect(await refusal(gateway.account(opened.id))).toBe("FORBIDDEN_ACCOUNT");
      });

      it("tells the servicer to a gateway (the PvP API's check of a bank's payer), never to another bank", async () => {
        const opened = await bankB.openAccount({ idempotencyKey: key(), kind: "legal_entity", holderName: "Serviced by B" });
        expect(await gateway.servicer(opened.id)).toBe(BANK_B);
        expect(await bankB.servicer(opened.id)).toBe(BANK_B);
        expect(await nbk.servicer(opened.id)).toBe(BANK_B);
        expect(await refusal(bankA.servicer(opened.id))).toBe("FORBIDDEN_ACCOUNT");
        expect(await refusal(gateway.servicer("00000000-0000-0000-0000-000000000000"))).toBe("UNKNOWN_ACCOUNT");
      });

      it("refuses an idempotency key reused for a different request", async () => {
        const idempotencyKey = key();
        await bankA.openAccount({ idempotencyKey, kind: "individual", holderName: "First" });
        expect(await refusal(bankA.openAccount({ idempotencyKey, kind: "individual", holderName: "Second" }))).toBe("IDEMPOTENCY_CONFLICT");
      });

      it("lets each participant open only the kinds of account it serves", async () => {
        expect(await refusal(bankA.openAccount({ idempotencyKey: key(), kind: "government_agency", holderName: "Ministry" }))).toBe("FORBIDDEN_OPERATION");
        expect(await refusal(bankA.openAccount({ idempotencyKey: key(), kind: "segregated_wallet", holderName: "Wallet" }))).toBe("FORBIDDEN_OPERATION");
        const wallet = await gateway.openAccount({ idempotencyKey: key(), kind: "segregated_wallet", holderName: "Collateral" });
        expect(wallet.kind).toBe("segregated_wallet");
        expect(await refusal(bankA.openAccount({ idempotencyKey: key(), kind: "collateral_intake", holderName: "Intake" }))).toBe("FORBIDDEN_OPERATION");
        expect((await gateway.openAccount({ idempotencyKey: key(), kind: "collateral_intake", holderName: "Intake" })).kind).toBe("collateral_intake");
      });

      it("credits a segregated wallet only from its servicer's own accounts: another participant's payment or hold is refused", async () => {
        const wallet = await gateway.openAccount({ idempotencyKey: key(), kind: "segregated_wallet", holderName: "Collateral" });
        const intake = await gateway.openAccount({ idempotencyKey: key(), kind: "collateral_intake", holderName: "Collateral intake" });
        const exchange = await funded(bankA, BANK_A, 10_000n, "exchange");
        expect(await refusal(bankA.transfer({ idempotencyKey: key(), from: exchange, to: wallet.id, amount: 100n, reference: "JUNK" }))).toBe("FORBIDDEN_OPERATION");
        const secret = newSecret();
        const hold = { from: exchange, beneficiary: wallet.id, amount: 100n, condition: { hashLock: secret.hashLock }, expiresAt: new Date(harness.clock.now().getTime() + HOUR), reference: "JUNK" };
        expect(await refusal(bankA.hold({ idempotencyKey: key(), ...hold }))).toBe("FORBIDDEN_OPERATION");
        expect(await refusal(gateway.hold({ idempotencyKey: key(), ...hold }))).toBe("FORBIDDEN_OPERATION");
        expect((await gateway.balance(wallet.id)).available).toBe(0n);
        expect((await bankA.balance(exchange)).available).toBe(10_000n);
        // Into the intake anyone may pay; from there only the servicer moves DT on into the wallet.
        await bankA.transfer({ idempotencyKey: key(), from: exchange, to: intake.id, amount: 100n, reference: "MINT-9" });
        await gateway.transfer({ idempotencyKey: key(), from: intake.id, to: wallet.id, amount: 100n, reference: "MINT-9" });
        expect((await gateway.balance(wallet.id)).available).toBe(100n);
      });

      it("answers UNKNOWN_ACCOUNT for an account that does not exist", async () => {
        expect(await refusal(bankA.balance("DA-NOPE-000000000000"))).toBe("UNKNOWN_ACCOUNT");
        expect(await refusal(bankA.account("DA-NOPE-000000000000"))).toBe("UNKNOWN_ACCOUNT");
      });

      it("refuses another bank's customer's balance", async () => {
        const account = await funded(bankA, BANK_A, 100n);
        expect(await refusal(bankB.balance(account))).toBe("FORBIDDEN_ACCOUNT");
        expect((await nbk.balance(account)).available).toBe(100n);
      });
    });

    describe("transfers", () => {
      it("moves tiyn from payer to payee with change, and reports the payment type", async () => {
        const payer = await funded(bankA, BANK_A, 500_000n);
        const payee = await funded(bankB, BANK_B, 0n);
        const receipt = await bankA.transfer({ idempotencyKey: key(), from: payer, to: payee, amount: 15_000n, reference: "INV-1" });
        expect(receipt).toMatchObject({ from: payer, to: payee, amount: 15_000n, reference: "INV-1", paymentType: "individual_to_individual" });
        expect((await bankA.balance(payer)).available).toBe(485_000n);
        expect((await bankB.balance(payee)).available).toBe(15_000n);
      });

      it("applies a retried transfer once", async () => {
        const payer = await funded(bankA, BANK_A, 1_000n);
        const payee = await funded(bankA, BANK_A, 0n);
        const request = { idempotencyKey: key(), from: payer, to: payee, amount: 300n, reference: "retry" };
        const first = await bankA.transfer(request);
        const second = await bankA.transfer(request);
        expect(second.transactionId).toBe(first.transactionId);
        expect(second.height).toBe(first.height);
        expect(await balances(bankA, payer, payee)).toEqual([{ available: 700n, held: 0n }, { available: 300n, held: 0n }]);
      });

      it("names payments by the NBK method list: merchant, LE-to-LE, LE-to-individual", async () => {
        const person = await funded(bankA, BANK_A, 1_000n);
        const shop = await funded(bankA, BANK_A, 1_000n, "legal_entity");
        const supplier = await funded(bankB, BANK_B, 0n, "legal_entity");
        const pay = (from: string, to: string) => bankA.transfer({ idempotencyKey: key(), from, to, amount: 1n, reference: "" });
        expect((await pay(person, shop)).paymentType).toBe("merchant_payment");
        expect((await pay(shop, supplier)).paymentType).toBe("le_to_le");
        expect((await pay(shop, person)).paymentType).toBe("le_to_individual");
      });

      it.each([
        ["a zero amount", 0n, "INVALID_AMOUNT"],
        ["a negative amount", -5n, "INVALID_AMOUNT"],
        ["an overdraft", 1_001n, "INSUFFICIENT_FUNDS"],
      ] as const)("refuses %s and leaves balances unchanged", async (_case, amount, code) => {
        const payer = await funded(bankA, BANK_A, 1_000n);
        const payee = await funded(bankA, BANK_A, 0n);
        expect(await refusal(bankA.transfer({ idempotencyKey: key(), from: payer, to: payee, amount, reference: "" }))).toBe(code);
        expect(await balances(bankA, payer, payee)).toEqual([{ available: 1_000n, held: 0n }, { available: 0n, held: 0n }]);
      });

      it("refuses unknown payer or payee accounts", async () => {
        const account = await funded(bankA, BANK_A, 1_000n);
        expect(await refusal(bankA.transfer({ idempotencyKey: key(), from: account, to: "DA-NOPE-1", amount: 1n, reference: "" }))).toBe("UNKNOWN_ACCOUNT");
        expect(await refusal(bankA.transfer({ idempotencyKey: key(), from: "DA-NOPE-1", to: account, amount: 1n, reference: "" }))).toBe("UNKNOWN_ACCOUNT");
        expect((await bankA.balance(account)).available).toBe(1_000n);
      });

      it("refuses a bank paying from another bank's customer", async () => {
        const victim = await funded(bankA, BANK_A, 1_000n);
        const thief = await funded(bankB, BANK_B, 0n);
        expect(await refusal(bankB.transfer({ idempotencyKey: key(), from: victim, to: thief, amount: 1n, reference: "" }))).toBe("FORBIDDEN_ACCOUNT");
        expect((await bankA.balance(victim)).available).toBe(1_000n);
        expect((await bankB.balance(thief)).available).toBe(0n);
      });

      it("refuses payments into or out of a closed account, and to the same account", async () => {
        const payer = await funded(bankA, BANK_A, 1_000n);
        const closed = await funded(bankA, BANK_A, 0n);
        await harness.ledger.closeAccount(BANK_A, { idempotencyKey: key(), accountId: closed });
        expect(await refusal(bankA.transfer({ idempotencyKey: key(), from: payer, to: closed, amount: 1n, reference: "" }))).toBe("ACCOUNT_CLOSED");
        expect(await refusal(bankA.transfer({ idempotencyKey: key(), from: closed, to: payer, amount: 1n, reference: "" }))).toBe("ACCOUNT_CLOSED");
        expect(await refusal(bankA.transfer({ idempotencyKey: key(), from: payer, to: payer, amount: 1n, reference: "" }))).toBe("SAME_ACCOUNT");
        expect((await bankA.balance(payer)).available).toBe(1_000n);
      });
    });

    describe("holds", () => {
      async function hashLocked(amount = 400n, expiresInMs = HOUR) {
        const owner = await funded(bankA, BANK_A, 1_000n);
        const beneficiary = await funded(bankB, BANK_B, 0n);
        const secret = newSecret();
        const hold = await bankA.hold({
          idempotencyKey: key(),
          from: owner,
          beneficiary,
          amount,
          condition: { hashLock: secret.hashLock },
          expiresAt: new Date(harness.clock.now().getTime() + expiresInMs),
          reference: "PVP-1",
        });
        return { owner, beneficiary, secret, hold };
      }

      it("locks the amount: held, not available, not spendable", async () => {
        const { owner, beneficiary, hold } = await hashLocked();
        expect(hold).toMatchObject({ from: owner, beneficiary, amount: 400n, status: "held", preimage: undefined });
        expect(hold.createdHeight).toBeGreaterThan(0n);
        expect(await balances(bankA, owner)).toEqual([{ available: 600n, held: 400n }]);
        expect(await refusal(bankA.transfer({ idempotencyKey: key(), from: owner, to: beneficiary, amount: 601n, reference: "" }))).toBe("INSUFFICIENT_FUNDS");
        expect(await balances(bankA, owner)).toEqual([{ available: 600n, held: 400n }]);
      });

      it("releases to the beneficiary with the preimage, whoever submits it, and reveals the preimage", async () => {
        const { owner, beneficiary, secret, hold } = await hashLocked();
        // Bank B (the beneficiary's bank) submits; the funds can only go to the named beneficiary.
        const released = await bankB.release({ idempotencyKey: key(), holdId: hold.id, preimage: secret.preimage });
        expect(released).toMatchObject({ status: "released", preimage: secret.preimage });
        expect(released.settledHeight).toBeGreaterThan(hold.createdHeight);
        expect(await balances(bankA, owner)).toEqual([{ available: 600n, held: 0n }]);
        expect(await balances(bankB, beneficiary)).toEqual([{ available: 400n, held: 0n }]);
        expect((await bankA.getHold(hold.id)).status).toBe("released");
      });

      it("refuses a wrong preimage and a preimage that is not 32 bytes, leaving the hold", async () => {
        const { owner, secret, hold } = await hashLocked();
        expect(await refusal(bankA.release({ idempotencyKey: key(), holdId: hold.id, preimage: newSecret().preimage }))).toBe("WRONG_PREIMAGE");
        expect(await refusal(bankA.release({ idempotencyKey: key(), holdId: hold.id, preimage: secret.preimage.slice(0, 64) as `0x${string}` }))).toBe("WRONG_PREIMAGE");
        expect(await refusal(bankA.release({ idempotencyKey: key(), holdId: hold.id, preimage: `${secret.preimage}00` }))).toBe("WRONG_PREIMAGE");
        expect(await refusal(bankA.release({ idempotencyKey: key(), holdId: hold.id, eventId: "EVT" }))).toBe("WRONG_CONDITION");
        expect((await bankA.getHold(hold.id)).status).toBe("held");
        expect(await balances(bankA, owner)).toEqual([{ available: 600n, held: 400n }]);
      });

      it("refuses a second release, but answers a retried one with the same key", async () => {
        const { beneficiary, secret, hold } = await hashLocked();
        const request = { idempotencyKey: key(), holdId: hold.id, preimage: secret.preimage };
        await bankB.release(request);
        expect((await bankB.release(request)).status).toBe("released");
        expect(await refusal(bankA.release({ idempotencyKey: key(), holdId: hold.id, preimage: secret.preimage }))).toBe("ALREADY_RELEASED");
        expect(await refusal(bankA.refund({ idempotencyKey: key(), holdId: hold.id }))).toBe("ALREADY_RELEASED");
        expect(await balances(bankB, beneficiary)).toEqual([{ available: 400n, held: 0n }]);
      });

      it("refuses a release at or after the expiry, even with the right preimage", async () => {
        const { owner, beneficiary, secret, hold } = await hashLocked(400n, 60_000);
        harness.clock.advance(60_000);
        expect(await refusal(bankB.release({ idempotencyKey: key(), holdId: hold.id, preimage: secret.preimage }))).toBe("HOLD_EXPIRED");
        expect(await balances(bankA, owner)).toEqual([{ available: 600n, held: 400n }]);
        expect(await balances(bankB, beneficiary)).toEqual([{ available: 0n, held: 0n }]);
      });

      it("refunds to the owner on request only after the expiry, once", async () => {
        const { owner, secret, hold } = await hashLocked(400n, 60_000);
        expect(await refusal(bankA.refund({ idempotencyKey: key(), holdId: hold.id }))).toBe("NOT_YET_EXPIRED");
        expect(await balances(bankA, owner)).toEqual([{ available: 600n, held: 400n }]);
        harness.clock.advance(60_000);
        const refunded = await bankA.refund({ idempotencyKey: key(), holdId: hold.id });
        expect(refunded.status).toBe("refunded");
        expect(await balances(bankA, owner)).toEqual([{ available: 1_000n, held: 0n }]);
        expect(await refusal(bankA.refund({ idempotencyKey: key(), holdId: hold.id }))).toBe("ALREADY_REFUNDED");
        expect(await refusal(bankB.release({ idempotencyKey: key(), holdId: hold.id, preimage: secret.preimage }))).toBe("ALREADY_REFUNDED");
      });

      describe("early refund (an agreed cancellation)", () => {
        const consent = { by: "FCBKAEAD", message: "PVP-1-CNCL" };
        async function pvpHold() {
          const owner = await funded(bankA, BANK_A, 1_000n);
          const beneficiary = await funded(bankB, BANK_B, 0n);
          const secret = newSecret();
          const hold = await gateway.hold({
            idempotencyKey: key(),
            from: owner,
            beneficiary,
            amount: 300n,
            condition: { hashLock: secret.hashLock },
            expiresAt: new Date(harness.clock.now().getTime() + HOUR),
            reference: "PVP-EARLY",
          });
          return { owner, beneficiary, secret, hold };
        }

        it("returns a PvP hold before its expiry to the gateway that placed it, on the creditor side's consent, once", async () => {
          const { owner, secret, hold } = await pvpHold();
          const request = { idempotencyKey: key(), holdId: hold.id, earlyConsent: consent };
          const refunded = await gateway.refund(request);
          expect(refunded.status).toBe("refunded");
          expect(await balances(bankA, owner)).toEqual([{ available: 1_000n, held: 0n }]);
          // A retry with the same key answers the first result; the hold cannot be released any more.
          expect((await gateway.refund(request)).status).toBe("refunded");
          expect(await refusal(gateway.refund({ ...request, earlyConsent: { ...consent, message: "OTHER" } }))).toBe("IDEMPOTENCY_CONFLICT");
          expect(await refusal(bankB.release({ idempotencyKey: key(), holdId: hold.id, preimage: secret.preimage }))).toBe("ALREADY_REFUNDED");
          // The consent is on record in the refund's event, for the owner's bank and the beneficiary's.
          let cursor: string | undefined;
          const seen = [];
          for (;;) {
            const page = await bankB.events({ ...(cursor ? { after: cursor } : {}), limit: 1000 });
            seen.push(...page.events);
            if (page.events.length === 0) break;
            cursor = page.cursor;
          }
          const event = seen.find((entry) => entry.type === "hold_refunded" && entry.hold.id === hold.id);
          expect(event).toMatchObject({ type: "hold_refunded", earlyConsent: consent });
        });

        it("refuses it to the payer's bank, the beneficiary's bank and the NBK, and without a consent, leaving the hold", async () => {
          const { owner, beneficiary, hold } = await pvpHold();
          const height = (await nbk.balance(owner)).height;
          for (const port of [bankA, bankB, nbk]) {
            expect(await refusal(port.refund({ idempotencyKey: key(), holdId: hold.id, earlyConsent: consent }))).toBe("FORBIDDEN_OPERATION");
          }
          expect(await refusal(gateway.refund({ idempotencyKey: key(), holdId: hold.id }))).toBe("NOT_YET_EXPIRED");
          expect(await refusal(gateway.refund({ idempotencyKey: key(), holdId: hold.id, earlyConsent: { by: "not a bic", message: "X" } }))).toBe("INVALID_REQUEST");
          expect(await refusal(gateway.refund({ idempotencyKey: key(), holdId: hold.id, earlyConsent: { by: "FCBKAEAD", message: "" } }))).toBe("INVALID_REQUEST");
          expect((await gateway.getHold(hold.id)).status).toBe("held");
          expect(await balances(bankA, owner)).toEqual([{ available: 700n, held: 300n }]);
          expect(await balances(bankB, beneficiary)).toEqual([{ available: 0n, held: 0n }]);
          expect((await nbk.balance(owner)).height).toBe(height);
        });

        it("refuses it to a bank that placed a hold on its own customer's account: the payer's side never cancels alone", async () => {
          const { owner, hold } = await hashLocked();
          expect(await refusal(bankA.refund({ idempotencyKey: key(), holdId: hold.id, earlyConsent: consent }))).toBe("FORBIDDEN_OPERATION");
          expect(await refusal(gateway.refund({ idempotencyKey: key(), holdId: hold.id, earlyConsent: consent }))).toBe("FORBIDDEN_ACCOUNT");
          expect(await balances(bankA, owner)).toEqual([{ available: 600n, held: 400n }]);
        });

        it("is an ordinary refund after the expiry, and refused once the hold is released", async () => {
          const { owner, secret, hold } = await pvpHold();
          await gateway.release({ idempotencyKey: key(), holdId: hold.id, preimage: secret.preimage });
          expect(await refusal(gateway.refund({ idempotencyKey: key(), holdId: hold.id, earlyConsent: consent }))).toBe("ALREADY_RELEASED");
          const late = await pvpHold();
          harness.clock.advance(HOUR);
          expect((await bankA.refund({ idempotencyKey: key(), holdId: late.hold.id, earlyConsent: consent })).status).toBe("refunded");
          expect(await balances(bankA, owner)).toEqual([{ available: 700n, held: 0n }]);
        });
      });

      it("refuses holds that are not the caller's to place, or malformed", async () => {
        const owner = await funded(bankA, BANK_A, 1_000n);
        const beneficiary = await funded(bankB, BANK_B, 0n);
        const base = { from: owner, beneficiary, condition: { hashLock: newSecret().hashLock }, expiresAt: new Date(harness.clock.now().getTime() + HOUR), reference: "" };
        expect(await refusal(bankB.hold({ ...base, idempotencyKey: key(), amount: 1n }))).toBe("FORBIDDEN_ACCOUNT");
        expect(await refusal(bankA.hold({ ...base, idempotencyKey: key(), amount: 0n }))).toBe("INVALID_AMOUNT");
        expect(await refusal(bankA.hold({ ...base, idempotencyKey: key(), amount: 1_001n }))).toBe("INSUFFICIENT_FUNDS");
        expect(await refusal(bankA.hold({ ...base, idempotencyKey: key(), amount: 1n, beneficiary: "DA-NOPE-1" }))).toBe("UNKNOWN_ACCOUNT");
        expect(await refusal(bankA.hold({ ...base, idempotencyKey: key(), amount: 1n, condition: { hashLock: "0x1234" } }))).toBe("INVALID_REQUEST");
        expect(await refusal(bankA.hold({ ...base, idempotencyKey: key(), amount: 1n, expiresAt: harness.clock.now() }))).toBe("INVALID_REQUEST");
        expect(await balances(bankA, owner)).toEqual([{ available: 1_000n, held: 0n }]);
      });

      it("lets the gateway place a PvP hold on a bank customer's account", async () => {
        const owner = await funded(bankA, BANK_A, 1_000n);
        const beneficiary = await funded(bankB, BANK_B, 0n);
        const secret = newSecret();
        const hold = await gateway.hold({
          idempotencyKey: key(),
          from: owner,
          beneficiary,
          amount: 250n,
          condition: { hashLock: secret.hashLock },
          expiresAt: new Date(harness.clock.now().getTime() + HOUR),
          reference: "PVP-GW",
        });
        await gateway.release({ idempotencyKey: key(), holdId: hold.id, preimage: secret.preimage });
        expect((await bankB.balance(beneficiary)).available).toBe(250n);
      });

      it("releases an event hold only on its event, confirmed by the participant that placed it", async () => {
        const owner = await funded(bankA, BANK_A, 1_000n);
        const beneficiary = await funded(bankB, BANK_B, 0n);
        const hold = await bankA.hold({
          idempotencyKey: key(),
          from: owner,
          beneficiary,
          amount: 100n,
          condition: { eventId: "DELIVERY-42" },
          expiresAt: new Date(harness.clock.now().getTime() + HOUR),
          reference: "DVP",
        });
        expect(await refusal(bankA.release({ idempotencyKey: key(), holdId: hold.id, eventId: "DELIVERY-41" }))).toBe("WRONG_CONDITION");
        expect(await refusal(bankB.release({ idempotencyKey: key(), holdId: hold.id, eventId: "DELIVERY-42" }))).toBe("FORBIDDEN_OPERATION");
        expect(await refusal(bankA.release({ idempotencyKey: key(), holdId: hold.id, preimage: newSecret().preimage }))).toBe("WRONG_CONDITION");
        await bankA.release({ idempotencyKey: key(), holdId: hold.id, eventId: "DELIVERY-42" });
        expect((await bankB.balance(beneficiary)).available).toBe(100n);
      });

      it("answers UNKNOWN_HOLD for a hold that does not exist", async () => {
        expect(await refusal(bankA.getHold("00000000-0000-4000-8000-000000000000"))).toBe("UNKNOWN_HOLD");
        expect(await refusal(bankA.refund({ idempotencyKey: key(), holdId: "not-a-hold" }))).toBe("UNKNOWN_HOLD");
      });
    });

    describe("events", () => {
      it("delivers deposits with references, holds with the revealed preimage, from a cursor", async () => {
        const start = await gateway.events({ limit: 1000 });
        let cursor = start.cursor;
        for (let page = start; page.events.length === 1000; ) {
          page = await gateway.events({ after: cursor, limit: 1000 });
          cursor = page.cursor;
        }
        const wallet = await gateway.openAccount({ idempotencyKey: key(), kind: "collateral_intake", holderName: "Collateral intake" });
        const exchange = await funded(bankA, BANK_A, 10_000n, "exchange");
        await bankA.transfer({ idempotencyKey: key(), from: exchange, to: wallet.id, amount: 2_500n, reference: "MINT-7" });
        const secret = newSecret();
        const hold = await gateway.hold({
          idempotencyKey: key(),
          from: exchange,
          beneficiary: wallet.id,
          amount: 100n,
          condition: { hashLock: secret.hashLock },
          expiresAt: new Date(harness.clock.now().getTime() + HOUR),
          reference: "PVP-E",
        });
        await bankA.release({ idempotencyKey: key(), holdId: hold.id, preimage: secret.preimage });

        const page = await gateway.events({ after: cursor });
        const types = page.events.map((event) => event.type);
        expect(types).toEqual(["account_opened", "payment", "hold_created", "hold_released"]);
        expect(page.events[1]).toMatchObject({ type: "payment", to: wallet.id, amount: 2_500n, reference: "MINT-7", paymentType: "collateral_deposit" });
        const released = page.events[3]!;
        expect(released.type === "hold_released" && released.preimage).toBe(secret.preimage);
        expect(page.events[2]!.type === "hold_created" && page.events[2]!.hold.createdHeight).toBe(hold.createdHeight);
        // At least once: reading from the same cursor again gives the same events.
        const again = await gateway.events({ after: cursor });
        expect(again.events.map((event) => event.id)).toEqual(page.events.map((event) => event.id));
        expect((await gateway.events({ after: page.cursor })).events).toEqual([]);
      });

      it("shows a bank only the events of its own customers", async () => {
        const head = await bankB.events({ after: (await nbk.events({ limit: 1000 })).cursor });
        const payer = await funded(bankA, BANK_A, 100n);
        const payee = await funded(bankA, BANK_A, 0n);
        await bankA.transfer({ idempotencyKey: key(), from: payer, to: payee, amount: 1n, reference: "private" });
        const seen = await bankB.events({ after: head.cursor, limit: 1000 });
        expect(seen.events.filter((event) => event.type === "payment" && event.reference === "private")).toEqual([]);
      });

      it("answers a long poll when an event arrives", async () => {
        const { cursor } = await bankA.events({ limit: 1000, after: (await nbk.events({ limit: 1000 })).cursor });
        const account = await funded(bankA, BANK_A, 0n);
        const waiting = bankA.events({ after: cursor, waitMs: 10_000 });
        await harness.ledger.issue(NBK, { idempotencyKey: key(), accountId: account, amount: 5n, reference: "wake" });
        const page = await waiting;
        expect(page.events.length).toBeGreaterThan(0);
      });
    });

    describe("statements", () => {
      it("signs the segregated wallet's available balance at the ledger height (EIP-712)", async () => {
        const wallet = await gateway.openAccount({ idempotencyKey: key(), kind: "segregated_wallet", holderName: "Collateral" });
        const intake = await gateway.openAccount({ idempotencyKey: key(), kind: "collateral_intake", holderName: "Collateral intake" });
        const exchange = await funded(bankA, BANK_A, 10_000n, "exchange");
        await bankA.transfer({ idempotencyKey: key(), from: exchange, to: intake.id, amount: 7_000n, reference: "MINT-1" });
        const deposit = await gateway.transfer({ idempotencyKey: key(), from: intake.id, to: wallet.id, amount: 7_000n, reference: "MINT-1" });
        const domain = { chainId: 31337, verifyingContract: "0x5FbDB2315678afecb367f032d93F642f64180aa3" as const };
        const signed = await gateway.collateralStatement({ accountId: wallet.id, domain });
        expect(signed.statement).toMatchObject({ account: wallet.id, balance: 7_000n, paidOut: 0n });
        // The height of the last booking: asking for a statement books nothing.
        expect(signed.statement.height).toBe(deposit.height);
        expect(signed.statement.timestamp).toBe(BigInt(Math.floor(harness.clock.now().getTime() / 1000)));
        expect(await recoverCollateralStatementSigner(signed.statement, domain, signed.signature)).toBe(signed.signer);
        expect(signed.signer).toBe(harness.ledger.operatorAddress);
        const booked = await gateway.activity({ accountId: wallet.id, toHeight: signed.statement.height });
        expect(booked.closingBalance).toBe(signed.statement.balance);
        // Only the wallet's servicer (the gateway) and the central bank get a statement signed.
        expect(await refusal(bankB.collateralStatement({ accountId: wallet.id, domain }))).toBe("FORBIDDEN_ACCOUNT");
        const next = await nbk.collateralStatement({ accountId: wallet.id, domain });
        expect(next.statement.balance).toBe(7_000n);
        // Nothing moved: the same height (the token takes it only as a refresh of the time).
        expect(next.statement.height).toBe(signed.statement.height);
        expect(await refusal(bankB.collateralStatement({ accountId: exchange, domain }))).toBe("FORBIDDEN_ACCOUNT");
        // A payout (a redemption) shows in paidOut, every debit since the account opened; credits do not.
        await gateway.transfer({ idempotencyKey: key(), from: wallet.id, to: exchange, amount: 2_500n, reference: "REDEEM-1" });
        await bankA.transfer({ idempotencyKey: key(), from: exchange, to: intake.id, amount: 1_000n, reference: "MINT-2" });
        await gateway.transfer({ idempotencyKey: key(), from: intake.id, to: wallet.id, amount: 1_000n, reference: "MINT-2" });
        await gateway.transfer({ idempotencyKey: key(), from: wallet.id, to: exchange, amount: 500n, reference: "REDEEM-2" });
        // A payment that matches nothing stays in the intake; a return pays it back to its payer, once.
        const stray = await bankA.transfer({ idempotencyKey: key(), from: exchange, to: intake.id, amount: 400n, reference: "NO-SUCH-MINT" });
        expect(await refusal(gateway.transfer({ idempotencyKey: key(), from: intake.id, to: exchange, amount: 401n, reference: "RETURN", returnOf: stray.transactionId }))).toBe("INVALID_REQUEST");
        expect(await refusal(gateway.transfer({ idempotencyKey: key(), from: intake.id, to: exchange, amount: 100n, reference: "RETURN", returnOf: randomUUID() }))).toBe("INVALID_REQUEST");
        const returned = await gateway.transfer({ idempotencyKey: key(), from: intake.id, to: exchange, amount: 400n, reference: "RETURN", returnOf: stray.transactionId });
        const again = await gateway.transfer({ idempotencyKey: key(), from: intake.id, to: exchange, amount: 400n, reference: "RETURN", returnOf: stray.transactionId });
        expect(again.transactionId).toBe(returned.transactionId);
        const afterPayouts = await gateway.collateralStatement({ accountId: wallet.id, domain });
        expect(afterPayouts.statement).toMatchObject({ balance: 5_000n, paidOut: 3_000n });
        expect(await recoverCollateralStatementSigner(afterPayouts.statement, domain, afterPayouts.signature)).toBe(afterPayouts.signer);
      });

      it("reports an account's booked entries with counterparties and balances for camt statements", async () => {
        const account = await funded(bankA, BANK_A, 1_000n, "legal_entity");
        const other = await funded(bankB, BANK_B, 500n);
        const out = await bankA.transfer({ idempotencyKey: key(), from: account, to: other, amount: 200n, reference: "OUT" });
        const back = await bankB.transfer({ idempotencyKey: key(), from: other, to: account, amount: 50n, reference: "BACK" });
        const activity = await bankA.activity({ accountId: account });
        expect(activity.openingBalance).toBe(0n);
        expect(activity.closingBalance).toBe(850n);
        expect(activity.entries.map((entry) => [entry.kind, entry.direction, entry.amount, entry.reference])).toEqual([
          ["issuance", "credit", 1_000n, "conversion"],
          ["payment", "debit", 200n, "OUT"],
          ["payment", "credit", 50n, "BACK"],
        ]);
        expect(activity.entries[1]!.counterparty).toMatchObject({ accountId: other, participantId: BANK_B });
        const later = await bankA.activity({ accountId: account, fromHeight: back.height });
        expect(later).toMatchObject({ openingBalance: 800n, closingBalance: 850n });
        expect(later.entries.map((entry) => entry.transactionId)).toEqual([back.transactionId]);
        expect(out.height).toBeLessThan(back.height);
        expect(await refusal(bankB.activity({ accountId: account }))).toBe("FORBIDDEN_ACCOUNT");
      });
    });
  
    describe("issuance allotments", () => {
      const TOKEN_A = "0x5FbDB2315678afecb367f032d93F642f64180aa3" as const;
      const TOKEN_B = "0xe7f1725E7734CE288F8367e1Bb143E90bb3F0512" as const;

      async function pool(deposited: bigint) {
        const wallet = (await gateway.openAccount({ idempotencyKey: key(), kind: "segregated_wallet", holderName: "Collateral" })).id;
        const intake = (await gateway.openAccount({ idempotencyKey: key(), kind: "collateral_intake", holderName: "Collateral intake" })).id;
        const exchange = await funded(bankA, BANK_A, deposited, "exchange");
        await bankA.transfer({ idempotencyKey: key(), from: exchange, to: intake, amount: deposited, reference: "MINT" });
        await gateway.transfer({ idempotencyKey: key(), from: intake, to: wallet, amount: deposited, reference: "MINT" });
        return wallet;
      }

      it("signs the pool's next allotment for the wallet's servicer, once per reference, and shows the latest to it and the NBK", async () => {
        const wallet = await pool(1_000n);
        expect(await gateway.latestIssuanceAllotment(wallet)).toBeUndefined();
        await gateway.issuanceAllotment({ accountId: wallet, reference: `chain:31337:${TOKEN_A}`, change: { kind: "addChain", chainId: 31337n, token: TOKEN_A } });
        await gateway.issuanceAllotment({ accountId: wallet, reference: `chain:31338:${TOKEN_B}`, change: { kind: "addChain", chainId: 31338n, token: TOKEN_B } });
        const mint = { accountId: wallet, reference: `mint:${randomUUID()}`, change: { kind: "credit" as const, chainId: 31337n, amount: 600n } };
        const credited = await gateway.issuanceAllotment(mint);
        expect(credited.allotment).toMatchObject({ account: wallet, sequence: 3n, credited: 1_000n, moved: 0n });
        expect(credited.allotment.chains).toEqual([
          { chainId: 31337n, token: TOKEN_A, issuanceLimit: 600n },
          { chainId: 31338n, token: TOKEN_B, issuanceLimit: 0n },
        ]);
        expect(await recoverIssuanceAllotmentSigner(credited.allotment, credited.signature)).toBe(credited.signer);
        expect(credited.signer).toBe(harness.ledger.operatorAddress);
        // A retried mint gets the allotment that first applied it: the limit rises once.
        expect(await gateway.issuanceAllotment(mint)).toEqual(credited);
        expect(await refusal(gateway.issuanceAllotment({ ...mint, change: { ...mint.change, amount: 601n } }))).toBe("IDEMPOTENCY_CONFLICT");
        const move = { accountId: wallet, reference: `move:${randomUUID()}`, change: { kind: "move" as const, from: 31337n, to: 31338n, amount: 200n } };
        const moved = await gateway.issuanceAllotment(move);
        expect(await gateway.issuanceAllotment(move)).toEqual(moved);
        expect(moved.allotment).toMatchObject({ sequence: 4n, moved: 200n });
        expect(moved.allotment.chains.map((entry) => entry.issuanceLimit)).toEqual([600n, 200n]);
        expect(await gateway.latestIssuanceAllotment(wallet)).toEqual(moved);
        expect(await nbk.latestIssuanceAllotment(wallet)).toEqual(moved);
      });

      it("refuses another bank, the NBK, a wallet it does not service and a change beyond the pool, writing nothing", async () => {
        const wallet = await pool(500n);
        await gateway.issuanceAllotment({ accountId: wallet, reference: "chain:31337:a", change: { kind: "addChain", chainId: 31337n, token: TOKEN_A } });
        const first = await gateway.issuanceAllotment({ accountId: wallet, reference: "mint:first", change: { kind: "credit", chainId: 31337n, amount: 500n } });
        const credit = { kind: "credit" as const, chainId: 31337n, amount: 1n };
        for (const port of [bankA, bankB, nbk]) {
          expect(await refusal(port.issuanceAllotment({ accountId: wallet, reference: "mint:other", change: credit }))).toBe("FORBIDDEN_ACCOUNT");
          // Not even a replay of the servicer's own reference answers another participant.
          expect(await refusal(port.issuanceAllotment({ accountId: wallet, reference: "mint:first", change: { ...credit, amount: 500n } }))).toBe("FORBIDDEN_ACCOUNT");
        }
        expect(await refusal(bankA.latestIssuanceAllotment(wallet))).toBe("FORBIDDEN_ACCOUNT");
        const customer = await funded(bankA, BANK_A, 0n);
        expect(await refusal(gateway.issuanceAllotment({ accountId: customer, reference: "mint:x", change: credit }))).toBe("FORBIDDEN_ACCOUNT");
        expect(await refusal(gateway.latestIssuanceAllotment(customer))).toBe("FORBIDDEN_ACCOUNT");
        expect(await refusal(gateway.issuanceAllotment({ accountId: wallet, reference: "mint:over", change: credit }))).toBe("ALLOTMENT_EXCEEDS_POOL");
        expect(await refusal(gateway.issuanceAllotment({ accountId: wallet, reference: "mint:bsc", change: { ...credit, chainId: 56n } }))).toBe("ALLOTMENT_UNKNOWN_CHAIN");
        expect(await refusal(gateway.issuanceAllotment({ accountId: wallet, reference: "with space", change: credit }))).toBe("INVALID_REQUEST");
        expect(await refusal(gateway.issuanceAllotment({ accountId: wallet, reference: "chain:bad", change: { kind: "addChain", chainId: 1n, token: "0x12" as typeof TOKEN_A } }))).toBe("INVALID_REQUEST");
        expect(await refusal(gateway.issuanceAllotment({ accountId: "no-such-account", reference: "mint:y", change: credit }))).toBe("UNKNOWN_ACCOUNT");
        expect(await gateway.latestIssuanceAllotment(wallet)).toEqual(first);
      });
    });
  });
}
