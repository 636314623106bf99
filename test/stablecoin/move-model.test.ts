import { getAddress } from "viem";
import { describe, expect, it } from "vitest";
import { MOVE_STATES, moveTransitions, type MoveState } from "../../src/stablecoin/model.ts";
import { moveTarget } from "../../src/stablecoin/move-flow.ts";

/** The move flow's transition table and its one decision, walked without a database or a chain. */
describe("move model", () => {
  const reachable = (from: MoveState): Set<MoveState> => {
    const seen = new Set<MoveState>([from]);
    const queue = [from];
    while (queue.length > 0) {
      const state = queue.shift()!;
      for (const transition of Object.values(moveTransitions)) {
        if ((transition.from as readonly MoveState[]).includes(state) && !seen.has(transition.to)) {
          seen.add(transition.to);
          queue.push(transition.to);
        }
      }
    }
    return seen;
  };

  it("reaches every state from seen, and nothing leaves moved, refunded or mint_failed", () => {
    expect([...reachable("seen")].sort()).toEqual([...MOVE_STATES].sort());
    for (const terminal of ["moved", "refunded", "mint_failed"] as const) {
      expect(Object.values(moveTransitions).some((transition) => (transition.from as readonly MoveState[]).includes(terminal))).toBe(false);
    }
  });

  it("mints only after an allotment: the one way into minting is allotted, from allotting", () => {
    const intoMinting = Object.entries(moveTransitions).filter(([, transition]) => transition.to === "minting");
    expect(intoMinting).toEqual([["allotted", { from: ["allotting"], to: "minting" }]]);
    // A removed (reorganised) burn can only come back to seen, and be confirmed again.
    expect(Object.values(moveTransitions).filter((transition) => (transition.from as readonly MoveState[]).includes("removed")).map((transition) => transition.to)).toEqual(["seen"]);
    // Once minting (an allotment applied to the target), a move never goes back to asking the ledger.
    expect(reachable("minting")).toEqual(new Set(["minting", "moved", "refunded", "mint_failed"]));
  });

  const holder = getAddress("0x00000000000000000000000000000000000000a1");
  const recipient = getAddress("0x00000000000000000000000000000000000000b2");
  const move = { sourceChainId: 31337, destinationChainId: 31338n, recipient };
  const exchange = { evmAddresses: [holder, recipient] };

  it.each([
    ["a configured destination and a registered, allowed recipient", { destinationConfigured: true, exchange, recipientBlocklisted: false }, { targetChainId: 31338, refundReason: null }],
    ["a destination the pool does not have", { destinationConfigured: false, exchange, recipientBlocklisted: undefined }, { targetChainId: 31337, refundReason: "DESTINATION_UNKNOWN" }],
    ["a recipient not registered for the exchange", { destinationConfigured: true, exchange: { ...exchange, evmAddresses: [holder] }, recipientBlocklisted: false }, { targetChainId: 31337, refundReason: "RECIPIENT_NOT_REGISTERED" }],
    ["a recipient the destination token refuses", { destinationConfigured: true, exchange, recipientBlocklisted: true }, { targetChainId: 31337, refundReason: "RECIPIENT_REFUSED" }],
  ] as const)("targets %s", (_what, facts, expected) => {
    expect(moveTarget(move, facts)).toEqual(expected);
  });
});
