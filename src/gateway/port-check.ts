import { createServer } from "node:net";
import { ConfigError, type GatewayConfig } from "../config/config.ts";

/**
 * Refuses the start at once when a port the gateway will listen on is taken, instead of after the embedded stack
 * has started (seconds later): each port is bound and released before anything starts.
 */
export async function checkPortsFree(config: GatewayConfig): Promise<void> {
  const ports: Array<{ variable: string; host: string; port: number; hint: string }> = [
    { variable: "PORT", host: config.host, port: config.port, hint: ": stop what listens there, or" },
  ];
  if (config.embedded) {
    ports.push(
      { variable: "EMBEDDED_CHAIN_PORT", host: config.embeddedChainHost, port: config.embeddedChainPort, hint: ", perhaps by another chain node: stop it, or" },
      { variable: "EMBEDDED_PEER_PORT", host: config.host, port: config.embeddedPeerPort, hint: ", perhaps by another embedded gateway: stop it, or" },
      { variable: "EMBEDDED_DT_LEDGER_PORT", host: config.host, port: config.embeddedDtLedgerPort, hint: ", perhaps by another embedded gateway: stop it, or" },
    );
  }
  for (const { variable, host, port, hint } of ports) {
    if (port === 0) continue;
    const code = await probe(host, port);
    if (code === "EADDRINUSE") throw new ConfigError(variable, `${port} on ${host} is in use (EADDRINUSE)${hint} set ${variable}=0 for a free port`);
  }
}

function probe(host: string, port: number): Promise<string | undefined> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once("error", (error: NodeJS.ErrnoException) => resolve(error.code));
    server.listen({ host, port, exclusive: true }, () => server.close(() => resolve(undefined)));
  });
}
