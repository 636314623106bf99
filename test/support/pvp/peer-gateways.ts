import type { Database } from "../../../src/persistence/database.ts";
import { PvpEngine } from "../../../src/pvp/engine.ts";
import { legDirectory } from "../../../src/pvp/leg-port.ts";
import { peerGatewayLeg } from "../../../src/pvp/legs/peer-gateway-leg.ts";
import { recordSentMessages } from "../../../src/pvp/message-log.ts";
import { statusRequestWatch } from "../../../src/pvp/status-requests.ts";
import { FOREIGN_CB, NBK, testPolicy, type VirtualClock } from "./harness.ts";
import type { InProcessNetwork } from "./in-process-network.ts";
import { SimulatedLedger } from "./simulated-ledger.ts";

type Receiver = (xml: string, from: string) => Promise<unknown>;

/**
 * Two gateways sharing one database over an in-process network: the initiator NBK (ledger `dt`, payer
 * DA-PAYER, and a peer leg to FOREIGN_CB that chases a silent peer after 5 s) and the responder FOREIGN_CB,
 * which locks on its ledger `local` from FX-PAYER for FX-NOSTRO-NBK; both payers hold 1,000,000.
 * `inbound` wraps each gateway's receiver, so a test can lose or hold back messages on their way in.
 */
export function peerGateways(options: {
  db: Database;
  clock: VirtualClock;
  network: InProcessNetwork;
  inbound?: (to: string, receive: Receiver) => Receiver;
  /** The initiator's peer leg chases a silent peer (default true). */
  initiatorChases?: boolean;
  /** The responder chases a silent initiator after this many ms (default: it does not). */
  responderAsksAfterMs?: number;
}): { initiator: PvpEngine; responder: PvpEngine; dt: SimulatedLedger; foreign: SimulatedLedger } {
  const { db, clock, network } = options;
  const dt = new SimulatedLedger("dt", () => clock.ms, { allowsEarlyRefund: false });
  const foreign = new SimulatedLedger("local", () => clock.ms, { allowsEarlyRefund: true });
  dt.fund("DA-PAYER", 1_000_000n);
  foreign.fund("FX-PAYER", 1_000_000n);
  const initiator = new PvpEngine({
    db,
    ourAgent: NBK,
    policy: testPolicy,
    clock,
    transport: network.transportFor(NBK),
    legs: legDirectory([
      dt,
      peerGatewayLeg({
        agent: FOREIGN_CB,
        ourAgent: NBK,
        transport: network.transportFor(NBK),
        clock,
        onSent: recordSentMessages(db, FOREIGN_CB, clock),
        ...(options.initiatorChases === false ? {} : { statusRequests: statusRequestWatch(db, { afterMs: 5_000, ourAgent: NBK, peer: FOREIGN_CB, clock }) }),
      }),
    ]),
  });
  const responder = new PvpEngine({
    db,
    ourAgent: FOREIGN_CB,
    policy: testPolicy,
    clock,
    transport: network.transportFor(FOREIGN_CB),
    legs: legDirectory([foreign]),
    ...(options.responderAsksAfterMs === undefined ? {} : { statusRequestAfterMs: options.responderAsksAfterMs }),
  });
  const inbound = options.inbound ?? ((_to: string, receive: Receiver) => receive);
  const terms = { liquidityAccounts: ["FX-PAYER"], settlementAccount: "FX-NOSTRO-NBK", maxAmount: 10n ** 15n };
  network.attach(NBK, inbound(NBK, (xml, from) => initiator.receive(xml, from, undefined)));
  network.attach(FOREIGN_CB, inbound(FOREIGN_CB, (xml, from) => responder.receive(xml, from, { ledger: "local", termsOf: (bic) => (bic === NBK ? terms : undefined) })));
  return { initiator, responder, dt, foreign };
}

/** A PvP these two gateways are funded for: 250,000 KZT (minor units) from DA-PAYER against 9,000 AED from FX-PAYER. */
export const peerPvpRequest = {
  createdBy: "bank",
  counterpartyAgent: FOREIGN_CB,
  dtLeg: { ledger: "dt", payer: "DA-PAYER", beneficiary: "DA-NOSTRO-FCB", amount: 250_000n, currency: "KZT" },
  foreignLeg: { ledger: `peer:${FOREIGN_CB}`, payer: FOREIGN_CB, beneficiary: NBK, amount: 9_000n, currency: "AED" },
};
