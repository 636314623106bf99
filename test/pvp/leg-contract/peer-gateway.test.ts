import { generateEd25519, ed25519PrivateKey } from "../../../src/identity/http-signature.ts";
import { InboundRefusal } from "../../../src/pvp/inbound.ts";
import { PvpEngine } from "../../../src/pvp/engine.ts";
import { legDirectory, LegError, type LegInstruction, type PeerTransport } from "../../../src/pvp/leg-port.ts";
import { httpPeerTransport } from "../../../src/pvp/legs/http-peer-transport.ts";
import { peerGatewayLeg } from "../../../src/pvp/legs/peer-gateway-leg.ts";
import { legOf, newPvpRecord } from "../../../src/pvp/pvp.ts";
import { pvpStore } from "../../../src/pvp/store.ts";
import { createTestDatabase } from "../../support/database.ts";
import { FOREIGN_CB, migratePvp, NBK, testPolicy, VirtualClock } from "../../support/pvp/harness.ts";
import { SimulatedLedger } from "../../support/pvp/simulated-ledger.ts";
import { legInstruction, legPortContract } from "./contract.ts";

const FUNDED = 1_000_000n;

/**
 * The peer leg against a real correspondent: its PvP engine (the responder, on a ledger of its own) gets
 * the leg's messages, locks, claims and refunds, and reports back; the reports reach our side through our
 * own engine's inbound path, which records them on our PvP, and the leg is handed them as the engine would.
 */
legPortContract("peer gateway leg", async () => {
  const testDb = await createTestDatabase();
  const db = testDb.db;
  await migratePvp(db);
  const clock = new VirtualClock();
  const theirLedger = new SimulatedLedger("local", () => clock.ms, { allowsEarlyRefund: true });
  theirLedger.fund("FX-PAYER", FUNDED);
  const terms = { liquidityAccounts: ["FX-PAYER"], settlementAccount: "FX-NOSTRO-NBK", maxAmount: 10n ** 15n };
  const engines: { ours?: PvpEngine } = {};
  // A refusal the correspondent's gateway answers 422 to is final, as over HTTP (http-peer-transport.ts).
  const deliver = async (receive: () => Promise<unknown>) => {
    try {
      await receive();
    } catch (error) {
      if (error instanceof InboundRefusal) throw new LegError("REJECTED", `${error.code}: ${error.message}`, { permanent: true });
      throw error;
    }
  };
  const toThem: PeerTransport = { send: (_to, message) => deliver(() => them.receive(message.xml, NBK, { ledger: "local", termsOf: (bic) => (bic === NBK ? terms : undefined) })) };
  const toUs: PeerTransport = { send: (_to, message) => deliver(() => engines.ours!.receive(message.xml, FOREIGN_CB)) };
  const them = new PvpEngine({ db, ourAgent: FOREIGN_CB, policy: testPolicy, clock, transport: toUs, legs: legDirectory([theirLedger]) });
  const port = peerGatewayLeg({ agent: FOREIGN_CB, ourAgent: NBK, transport: toThem, clock });
  // Our engine only receives here: the contract drives the leg itself, so its worker never runs.
  engines.ours = new PvpEngine({ db, ourAgent: NBK, policy: testPolicy, clock, transport: toThem, legs: legDirectory([port]) });
  const pvpIds = new Map<string, string>();

  return {
    port,
    async newLeg({ hashLock, expiresInMs, short, role }) {
      const leg = legInstruction(
        { ledger: `peer:${FOREIGN_CB}`, payer: FOREIGN_CB, beneficiary: NBK, amount: short ? FUNDED + 1n : 9_000n, currency: "AED", hashLock, expiresAt: new Date(clock.ms + expiresInMs) },
        { role, createdAt: clock.now() },
      );
      // Our side of the PvP, as creation writes it, so the correspondent's reports find it by UETR.
      const dtLeg = { ledger: "dt", payer: "DA-PAYER", beneficiary: "DA-NOSTRO-FCB", amount: 250_000n, currency: "KZT", hashLock, expiresAt: new Date(clock.ms + 2 * expiresInMs) };
      const record = newPvpRecord({
        id: leg.pvp.id,
        pvpRef: leg.pvp.id,
        role: "initiator",
        uetr: leg.pvp.uetr,
        hashLock,
        dtLeg,
        foreignLeg: leg.terms,
        ourAgent: NBK,
        counterpartyAgent: FOREIGN_CB,
        createdBy: "bank",
        instruction: leg.pvp.instruction!,
        now: clock.now(),
      });
      await pvpStore.insert(db, record);
      const instruction = legOf(record, "foreign");
      pvpIds.set(instruction.key, record.id);
      return { ...instruction, pvp: { ...instruction.pvp, role: role ?? "initiator" } };
    },
    advance: async (ms) => clock.advance(ms),
    async settle(leg: LegInstruction) {
      // The correspondent's worker acts on what it got, with its clock moving a second at a time when idle.
      for (let idle = 0, round = 0; idle < 5 && round < 60; round++) {
        if ((await them.runOnce()) === 0) {
          idle++;
          clock.advance(1000);
        } else idle = 0;
      }
      const record = (await pvpStore.get(db, pvpIds.get(leg.key)!))!;
      return { ...leg, reported: legOf(record, "foreign").reported };
    },
    balances: async () => ({ payer: theirLedger.balance("FX-PAYER"), beneficiary: theirLedger.balance("FX-NOSTRO-NBK") }),
    // Their gateway's URL where nothing listens, through the real HTTP transport.
    unreachable: async () =>
      peerGatewayLeg({
        agent: FOREIGN_CB,
        ourAgent: NBK,
        clock,
        transport: httpPeerTransport({
          correspondents: [{ agent: FOREIGN_CB, url: "http://127.0.0.1:9", principalId: "fcb" }],
          keyId: "nbk-1",
          privateKey: ed25519PrivateKey(generateEd25519().seed),
          timeoutMs: 2000,
        }),
      }),
    traits: { earlyRefund: true, refusesByReport: true },
    close: () => testDb.drop(),
  };
});
