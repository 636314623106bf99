import { userInfo } from "node:os";
import { parseArgs } from "node:util";
import { UsageError } from "../core/cli-command.ts";
import type { DatabaseCommand } from "../persistence/database-command.ts";
import { connection, viaApi, viaDatabase } from "./cli.ts";
import { fxProviderKeyToJson, fxProviderStore } from "./fx-providers.ts";
import { listing } from "./terms-cli.ts";

/**
 * `tenge-gateway correspondents fx-providers ...`: the FX providers a counterparty lets sign quotes for it
 * and their quote-signing keys, on the database of DATABASE_URL or with --gateway URL through the operator API.
 */
const where = `Works on the database of DATABASE_URL (unset: the PGlite under DATA_DIR; also from TENGE_CONFIG_FILE), or with
--gateway URL calls the operator API of a running gateway (--api-key or TENGE_API_KEY). Every change is audited
with who made it (the operator, or cli:<user> on the database).`;

const actor = () => `cli:${userInfo().username}`;

export const nameProviders: DatabaseCommand = {
  help: `Usage: npx tenge-gateway correspondents fx-providers set BIC [--provider PROVIDER_BIC]... [--gateway URL]

Sets the FX providers the correspondent BIC lets sign quotes for it, on its word (no --provider: only its
own signature counts). A quote signed by a provider it does not name is refused.
${where}`,
  async run(args, io) {
    const { values, positionals } = parseArgs({ args, options: { provider: { type: "string", multiple: true }, ...connection }, strict: true, allowPositionals: true });
    if (positionals.length !== 1) throw new UsageError("give exactly one BIC");
    const [bic] = positionals as [string];
    const providers = values.provider ?? [];
    if (values.gateway) {
      io.out(JSON.stringify(await viaApi(io, values, "PUT", `/operator/correspondents/${encodeURIComponent(bic)}/fx-providers`, { providers })));
      return 0;
    }
    return viaDatabase(io, async (db) => {
      io.out(JSON.stringify({ counterpartyAgent: bic, providers: await fxProviderStore.setNamed(db, bic, providers, actor()) }));
      return 0;
    });
  },
};

export const addProviderKey: DatabaseCommand = {
  help: `Usage: npx tenge-gateway correspondents fx-providers add-key PROVIDER_BIC --name NAME --key-id ID --public-key HEX [--gateway URL]

Registers an FX provider's Ed25519 quote-signing key (32 bytes, hex or base64). It signs quotes only and
authenticates no request; a key id or public key already registered for anyone is refused.
${where}`,
  async run(args, io) {
    const options = { name: { type: "string" }, "key-id": { type: "string" }, "public-key": { type: "string" }, ...connection } as const;
    const { values, positionals } = parseArgs({ args, options, strict: true, allowPositionals: true });
    if (positionals.length !== 1) throw new UsageError("give exactly one provider BIC");
    const [provider] = positionals as [string];
    const { name, "key-id": keyId, "public-key": publicKey } = values;
    if (!name || !keyId || !publicKey) throw new UsageError("--name, --key-id and --public-key are required");
    if (values.gateway) {
      io.out(JSON.stringify(await viaApi(io, values, "POST", `/operator/fx-providers/${encodeURIComponent(provider)}/keys`, { name, keyId, publicKey })));
      return 0;
    }
    return viaDatabase(io, async (db) => {
      io.out(JSON.stringify(fxProviderKeyToJson(await fxProviderStore.addKey(db, { providerId: provider, providerName: name, keyId, publicKey }, actor()))));
      return 0;
    });
  },
};

export const revokeProviderKey: DatabaseCommand = {
  help: `Usage: npx tenge-gateway correspondents fx-providers revoke-key PROVIDER_BIC --key-id ID [--gateway URL]

Revokes an FX provider's quote-signing key: quotes signed with it are refused from now on.
${where}`,
  async run(args, io) {
    const { values, positionals } = parseArgs({ args, options: { "key-id": { type: "string" }, ...connection }, strict: true, allowPositionals: true });
    if (positionals.length !== 1 || !values["key-id"]) throw new UsageError("give one provider BIC and --key-id");
    const [provider] = positionals as [string];
    const keyId = values["key-id"];
    if (values.gateway) {
      io.out(JSON.stringify(await viaApi(io, values, "POST", `/operator/fx-providers/${encodeURIComponent(provider)}/keys/${encodeURIComponent(keyId)}/revoke`)));
      return 0;
    }
    return viaDatabase(io, async (db) => {
      await fxProviderStore.revokeKey(db, provider, keyId, actor());
      io.out(JSON.stringify({ providerId: provider, keyId, revoked: true }));
      return 0;
    });
  },
};

export const listProviders = listing(
  `Usage: npx tenge-gateway correspondents fx-providers list [--gateway URL]\n\nPrints one JSON line per FX provider key, with the counterparties that name its provider.\n${where.replace(/ Every change[^]*$/, "")}`,
  "/operator/fx-providers",
  async (db) => (await fxProviderStore.list(db)).map(fxProviderKeyToJson),
);
