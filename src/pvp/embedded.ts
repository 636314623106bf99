import { createPublicClient, createWalletClient, defineChain, http, type Address, type Hex } from "viem";
import { privateKeyToAccount } from "viem/accounts";
import { demoForeignCbdcAbi } from "../evm/generated/contracts.ts";
import type { DtLedgerPort } from "../ledger/dt-ledger-port.ts";
import type { Database } from "../persistence/database.ts";
import { pvpComponent, type PvpComponent, type PvpComponentOptions } from "./component.ts";
import { dtLedgerLeg } from "./legs/dt-ledger-leg.ts";
import { EvmHtlcLeg } from "./legs/evm-htlc-leg.ts";

export interface EmbeddedPvpOptions {
  db: Database;
  /** The DT ledger as the gateway participant sees it. */
  dtLedger: DtLedgerPort;
  rpcUrl: string;
  chainId: number;
  hashTimeLock: Address;
  /** The demo foreign CBDC (ERC-20, 2 decimals) standing for the correspondent's currency. */
  foreignCbdc: Address;
  /** Issuer of the demo foreign CBDC (the deployer): funds the foreign payer once. */
  issuerKey: Hex;
  /** The foreign bank's key on the chain: pays the foreign legs and submits claims and refunds. */
  foreignPayerKey: Hex;
  /** Seals preimages at rest (generated per embedded start). */
  preimageKey: Uint8Array;
  /** Our BIC (default NBRKKZKX). */
  ourAgent?: string;
  logger?: PvpComponentOptions["logger"];
  policy?: PvpComponentOptions["policy"];
}

export interface EmbeddedPvp {
  component: PvpComponent;
  /** Who pays the foreign leg on the chain (fund it, name it as `foreignLeg.payer`). */
  foreignPayer: Address;
}

/** Demo foreign CBDC given to the foreign payer at start: 1,000,000.00 units. */
const DEMO_FOREIGN_FLOAT = 100_000_000n;

/**
 * The PvP component of the embedded stack: DT legs on the embedded DT ledger, foreign legs on the
 * in-process chain's HTLC with the demo foreign CBDC, whose payer gets a float once. Call `component.start()`
 * after the server listens and `component.stop()` before closing the database.
 */
export async function startEmbeddedPvp(options: EmbeddedPvpOptions): Promise<EmbeddedPvp> {
  const chain = defineChain({ id: options.chainId, name: "embedded", nativeCurrency: { name: "Ether", symbol: "ETH", decimals: 18 }, rpcUrls: { default: { http: [options.rpcUrl] } } });
  const transport = http(options.rpcUrl);
  const client = createPublicClient({ chain, transport });
  const foreignPayer = privateKeyToAccount(options.foreignPayerKey).address;
  const balance = await client.readContract({ address: options.foreignCbdc, abi: demoForeignCbdcAbi, functionName: "balanceOf", args: [foreignPayer] });
  if (balance < DEMO_FOREIGN_FLOAT / 2n) {
    const issuer = createWalletClient({ account: privateKeyToAccount(options.issuerKey), chain, transport });
    const hash = await issuer.writeContract({ address: options.foreignCbdc, abi: demoForeignCbdcAbi, functionName: "issue", args: [foreignPayer, DEMO_FOREIGN_FLOAT] });
    await client.waitForTransactionReceipt({ hash });
  }
  const evm = await EvmHtlcLeg.connect({ rpcUrl: options.rpcUrl, hashTimeLock: options.hashTimeLock, token: options.foreignCbdc, currency: "AED", signerKeys: [options.foreignPayerKey] });
  const component = pvpComponent({
    db: options.db,
    ourAgent: options.ourAgent ?? "NBRKKZKX",
    legs: [dtLedgerLeg({ port: options.dtLedger }), evm],
    dtLedger: options.dtLedger,
    preimageKey: options.preimageKey,
    ...(options.policy ? { policy: options.policy } : {}),
    ...(options.logger ? { logger: options.logger } : {}),
  });
  return { component, foreignPayer };
}
