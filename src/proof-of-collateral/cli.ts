import { parseArgs } from "node:util";
import { CommandFailure, UsageError, type CommandModule } from "../core/cli-command.ts";
import { chainsOf, verifyAttestation, type VerificationResult } from "./page/verify-attestation.js";
import { kzt } from "./page/format.js";

export const verify: CommandModule = {
  help: `Usage: npx tenge-gateway collateral verify --url GATEWAY_URL --rpc CHAIN_ID=RPC_URL [--rpc CHAIN_ID=RPC_URL ...] [--gateway-key HEX] [--json]

Fetches GATEWAY_URL/proof-of-collateral and checks it without trusting the gateway, exactly as the public
page does in a browser: the gateway's Ed25519 signature, the DT ledger operator's EIP-712 signature, and for
every chain the attestation covers, through that chain's RPC: the token's collateral signer and segregated
account, the block hash, totalSupply() and the issuance allotment at the attested block; then that the
total is the sum of the chains, coverage (collateral >= total supply) and the statement's age.
Give one --rpc per chain, CHAIN_ID=RPC_URL (preferably your own nodes); a bare --rpc RPC_URL is the first
chain's. --gateway-key pins the gateway's public key.
Exit code 0 when every check passes, 1 otherwise (the last line names the chain that disagrees).`,
  async run(args, io) {
    const { values } = parseArgs({
      args,
      options: { url: { type: "string" }, rpc: { type: "string", multiple: true }, "gateway-key": { type: "string" }, json: { type: "boolean" } },
      strict: true,
    });
    if (!values.url || !values.rpc?.length) throw new UsageError("--url and at least one --rpc are required");
    const rpcUrls: Record<string, string> = {};
    let firstChainRpc: string | undefined;
    for (const value of values.rpc) {
      const named = /^(\d+)=(.+)$/.exec(value);
      if (named) {
        if (rpcUrls[named[1]!]) throw new UsageError(`--rpc names chain ${named[1]} twice`);
        rpcUrls[named[1]!] = named[2]!;
      } else if (/^https?:\/\//.test(value) && firstChainRpc === undefined) {
        firstChainRpc = value;
      } else {
        throw new UsageError(`--rpc ${value}: expected CHAIN_ID=RPC_URL (or one bare http(s) URL for the first chain)`);
      }
    }
    const endpoint = new URL("/proof-of-collateral", values.url.endsWith("/") ? values.url : `${values.url}/`);
    let response: Response;
    try {
      response = await fetch(endpoint);
    } catch (error) {
      throw CommandFailure.unreachable("gateway", endpoint, error);
    }
    const document: unknown = response.ok ? await response.json().catch(() => undefined) : undefined;
    if (document === undefined) throw new CommandFailure("NOT_A_GATEWAY", `${endpoint.href} answered HTTP ${response.status} without an attestation`);
    const result = await verifyAttestation(document, {
      rpcUrls,
      ...(firstChainRpc ? { rpcUrl: firstChainRpc } : {}),
      ...(values["gateway-key"] ? { gatewayPublicKey: values["gateway-key"] } : {}),
    });
    if (values.json) {
      io.out(JSON.stringify(result));
    } else {
      for (const check of result.checks) io.out(`${check.ok ? "ok  " : "FAIL"}  ${check.label}: ${check.detail}`);
      const attestation = (document as { attestation?: { collateral?: { balance?: string }; ratio?: string | null } }).attestation;
      const covered = chainsOf(attestation);
      const amount = (tiyn: unknown) => (typeof tiyn === "string" && /^\d+$/.test(tiyn) ? kzt(tiyn) : "?");
      for (const chain of covered?.chains ?? []) io.out(`chain ${String(chain["chainId"])}: supply ${amount(chain["supply"])} at block ${String(chain["blockNumber"])}`);
      io.out(`collateral ${amount(attestation?.collateral?.balance)}, total supply ${amount(covered?.totalSupply)}, ratio ${attestation?.ratio ?? "n/a"}`);
      io.out(verdict(result));
    }
    return result.verified ? 0 : 1;
  },
};

/** "VERIFIED", or "NOT VERIFIED: " with the chains that disagree first, then any other failed check. */
function verdict(result: VerificationResult): string {
  if (result.verified) return "VERIFIED";
  const chains = result.chains.filter((chain) => !chain.verified).map((chain) => `chain ${chain.chainId} disagrees (${chain.failed.join(", ")})`);
  const others = result.checks.filter((check) => !check.ok && check.chainId === undefined).map((check) => check.id);
  return `NOT VERIFIED: ${[...chains, ...(others.length > 0 ? [`failed ${others.join(", ")}`] : [])].join("; ")}`;
}
