import type { Hex } from "viem";
import type { Database } from "../persistence/database.ts";
import type { Faults, StablecoinLedger } from "./stablecoin-ledger.ts";
import { allotmentRelayRows, minterNonceRows, type AllotmentRelay } from "./store.ts";
import type { TokenChain } from "./token-chain.ts";

export interface AllotmentRelayerOptions {
  db: Database;
  ledger: Pick<StablecoinLedger, "latestIssuanceAllotment">;
  /** The chain relayed to; its minter key signs the relay under the minter's nonce lock. */
  chain: TokenChain;
  segregatedAccount: string;
  /** A relay without a receipt this long is replaced under its nonce with higher fees. */
  stuckAfterMs: number;
  clock: () => Date;
  faults?: Faults;
}

/** Whether the chain holds a new enough allotment now, or a relay was sent (or is on its way) for one. */
export type RelayOutcome = "held" | "relayed" | "waiting";

/** The token refused a relayed allotment, and no newer one is held: the operator looks (no gas is spent again on it). */
export class AllotmentRelayRefused extends Error {
  override name = "AllotmentRelayRefused";
}

/**
 * Brings a chain's token up to an issuance allotment: relays the ledger's newest one (it includes every
 * earlier change, limits only rise) with `submitIssuanceAllotment`, signed with the chain's minter key under
 * the same nonce lock as its mints, recorded before it is sent. Relaying is harmless to repeat (the token
 * refuses an older sequence), so a crash anywhere costs at most a second relay, never a second credit.
 */
export class AllotmentRelayer {
  readonly #options: AllotmentRelayerOptions;

  constructor(options: AllotmentRelayerOptions) {
    this.#options = options;
  }

  /** Makes sure the chain holds an allotment of at least `sequence`: "held" when it does. */
  async ensureHeld(sequence: bigint): Promise<RelayOutcome> {
    const { db, ledger, chain, segregatedAccount, faults } = this.#options;
    if ((await chain.issuance()).sequence >= sequence) return "held";
    const latest = await ledger.latestIssuanceAllotment(segregatedAccount);
    if (!latest || latest.allotment.sequence < sequence) throw new Error(`the DT ledger's newest allotment of ${segregatedAccount} is older than ${sequence}`);
    let send: Hex | undefined;
    const outcome = await db.transaction(async (tx) => {
      send = undefined;
      const minter = chain.minterAddress;
      const nonces = await minterNonceRows.lock(tx, chain.chainId, minter);
      // Read before the receipts: a relay mined in between then shows up as a receipt.
      const minedNonce = BigInt(await chain.nonce("latest"));
      let inFlight: AllotmentRelay | undefined;
      for (const relay of await allotmentRelayRows.pending(tx, chain.chainId)) {
        const receipt = await chain.receipt(relay.hash);
        if (receipt) {
          await allotmentRelayRows.settle(tx, relay.hash, receipt.status === "success" ? "mined" : "reverted");
          if (receipt.status !== "success" && relay.sequence >= sequence && (await chain.issuance()).sequence < sequence) {
            throw new AllotmentRelayRefused(`chain ${chain.chainId} refused issuance allotment ${relay.sequence} (transaction ${relay.hash}); check the token's collateral signer, segregated account and pool`);
          }
        } else if (minedNonce > relay.nonce) {
          await allotmentRelayRows.settle(tx, relay.hash, "dropped");
        } else if (relay.sequence >= sequence) {
          inFlight = relay;
        }
      }
      if ((await chain.issuance()).sequence >= sequence) return "held" as const;
      if (inFlight && this.#now().getTime() - inFlight.createdAt.getTime() <= this.#options.stuckAfterMs) {
        // Resend: a node may have dropped it from its pool; the same bytes cannot apply twice.
        send = inFlight.raw;
        return "waiting" as const;
      }
      // A stuck relay is replaced under its own nonce; otherwise the relay takes the minter's next nonce.
      const chainNonce = BigInt(await chain.nonce("pending"));
      const nonce = inFlight ? inFlight.nonce : nonces.nextNonce > chainNonce ? nonces.nextNonce : chainNonce;
      const fees = inFlight ? await chain.replacementFees(inFlight.raw) : await chain.fees();
      const signed = await chain.signSubmitIssuanceAllotment({ allotment: latest.allotment, signature: latest.signature, nonce, fees });
      await allotmentRelayRows.insert(tx, { hash: signed.hash, chainId: chain.chainId, sequence: latest.allotment.sequence, minter, nonce, raw: signed.raw });
      if (!inFlight) await minterNonceRows.set(tx, chain.chainId, minter, nonce + 1n, nonces.statementHeight);
      faults?.("mint.allot.before-commit");
      send = signed.raw;
      return "relayed" as const;
    });
    if (send) await chain.broadcast(send);
    if (outcome === "relayed") faults?.("mint.allot.after-send");
    return outcome;
  }

  #now(): Date {
    return this.#options.clock();
  }
}
