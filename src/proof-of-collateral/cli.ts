import { parseArgs } from "node:util";
import { CommandFailure, UsageError, type CommandModule } from "../core/cli-command.ts";
import { verifyAttestation } from "./page/verify-attestation.js";
import { formatKzt } from "../core/money.ts";

export const verify: CommandModule = {
  help: `Usage: npx tenge-gateway collateral verify --url GATEWAY_URL --rpc RPC_URL [--gateway-key HEX] [--json]

Fetches GATEWAY_URL/proof-of-collateral and checks it without trusting the gateway, exactly as the public
page does in a browser: the gateway's Ed25519 signature, the DT ledger operator's EIP-712 signature, the
token's collateral signer and segregated account read from the chain, the block hash, totalSupply() at the
attested block, coverage (collateral >= supply) and the statement's age. RPC_URL is any JSON-RPC endpoint
of the token's chain (preferably your own node). --gateway-key pins the gateway's public key.
Exit code 0 when every check passes, 1 otherwise.`,
  async run(args, io) {
    const { values } = parseArgs({
      args,
      options: { url: { type: "string" }, rpc: { type: "string" }, "gateway-key": { type: "string" }, json: { type: "boolean" } },
      strict: true,
    });
    if (!values.url || !values.rpc) throw new UsageError("--url and --rpc are required");
    const endpoint = new URL("/proof-of-collateral", values.url.endsWith("/") ? values.url : `${values.url}/`);
    let response: Response;
    try {
      response = await fetch(endpoint);
    } catch (error) {
      throw CommandFailure.unreachable("gateway", endpoint, error);
    }
    const document: unknown = response.ok ? await response.json().catch(() => undefined) : undefined;
    if (document === undefined) throw new CommandFailure("NOT_A_GATEWAY", `${endpoint.href} answered HTTP ${response.status} without an attestation`);
    const result = await verifyAttestation(document, { rpcUrl: values.rpc, ...(values["gateway-key"] ? { gatewayPublicKey: values["gateway-key"] } : {}) });
    if (values.json) {
      io.out(JSON.stringify(result));
    } else {
      for (const check of result.checks) io.out(`${check.ok ? "ok  " : "FAIL"}  ${check.label}: ${check.detail}`);
      const attestation = (document as { attestation?: { collateral?: { balance?: string }; supply?: { totalSupply?: string }; ratio?: string | null } }).attestation;
      const kzt = (tiyn: string | undefined) => (tiyn === undefined || !/^\d+$/.test(tiyn) ? "?" : formatKzt(BigInt(tiyn)));
      io.out(`collateral ${kzt(attestation?.collateral?.balance)} KZT, supply ${kzt(attestation?.supply?.totalSupply)} KZT, ratio ${attestation?.ratio ?? "n/a"}`);
      io.out(result.verified ? "VERIFIED" : "NOT VERIFIED");
    }
    return result.verified ? 0 : 1;
  },
};
