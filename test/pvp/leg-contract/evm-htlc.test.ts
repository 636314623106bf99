import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { getAddress, type Address } from "viem";
import { privateKeyToAccount } from "viem/accounts";
import { EvmHtlcLeg } from "../../../src/pvp/legs/evm-htlc-leg.ts";
import { startEvmStack } from "../../support/pvp/evm-stack.ts";
import { legInstruction, legPortContract } from "./contract.ts";

/**
 * A JSON-RPC relay in front of the chain that can be switched off: the leg connects through it (reading the
 * token's decimals), then meets a chain that no longer answers.
 */
async function switchableRelay(target: string): Promise<{ url: string; off(): void; close(): Promise<void> }> {
  let on = true;
  const server: Server = createServer((request, response) => {
    if (!on) {
      request.socket.destroy();
      return;
    }
    const chunks: Buffer[] = [];
    request.on("data", (chunk: Buffer) => chunks.push(chunk));
    request.on("end", () => {
      fetch(target, { method: "POST", headers: { "content-type": "application/json" }, body: Buffer.concat(chunks) })
        .then(async (answer) => {
          response.writeHead(answer.status, { "content-type": "application/json" });
          response.end(Buffer.from(await answer.arrayBuffer()));
        })
        .catch(() => request.socket.destroy());
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    off: () => {
      on = false;
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** The EVM HTLC leg on a real EVM (EDR in-process) with the HashTimeLock and a 2-decimal demo CBDC. */
legPortContract(
  "EVM HTLC leg",
  async () => {
    const evm = await startEvmStack();
    // A payer with no tokens for the legs it cannot fund: another of the chain's accounts, signed for too.
    const poorKey = evm.chain.accounts[3]!;
    const poor: Address = privateKeyToAccount(poorKey).address;
    const options = { hashTimeLock: evm.hashTimeLock, token: evm.token, currency: "AED", signerKeys: [evm.payerKey, poorKey], confirmations: 1 };
    const port = await EvmHtlcLeg.connect({ ...options, rpcUrl: evm.chain.rpcUrl });
    const relays: Awaited<ReturnType<typeof switchableRelay>>[] = [];
    return {
      port,
      async newLeg({ hashLock, expiresInMs, short, role }) {
        const now = await port.now();
        const terms = {
          ledger: "evm",
          payer: short ? poor : getAddress(evm.payer),
          beneficiary: getAddress(evm.beneficiary),
          amount: 1_000n,
          currency: "AED",
          hashLock,
          expiresAt: new Date(now.getTime() + expiresInMs),
        };
        return legInstruction(terms, { role });
      },
      advance: (ms) => evm.increaseTime(Math.ceil(ms / 1000)),
      settle: async (leg) => leg,
      balances: async (leg) => ({ payer: await evm.balanceOf(leg.terms.payer as Address), beneficiary: await evm.balanceOf(leg.terms.beneficiary as Address) }),
      async unreachable() {
        const relay = await switchableRelay(evm.chain.rpcUrl);
        relays.push(relay);
        const leg = await EvmHtlcLeg.connect({ ...options, rpcUrl: relay.url });
        relay.off();
        return leg;
      },
      traits: { earlyRefund: false, refusesByReport: false },
      close: async () => {
        for (const relay of relays) await relay.close();
        await evm.close();
      },
    };
  },
  120_000,
);
