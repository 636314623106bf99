import { parseArgs } from "node:util";
import { UsageError, type CommandIo, type CommandModule } from "../cli/command.ts";
import { loadConfig } from "../config/config.ts";
import { openGatewayDatabase, refuseEmbeddedDirectory } from "../gateway/database.ts";
import { isRole, ROLES } from "./principal.ts";
import { IdentityError, IdentityStore } from "./store.ts";

async function withIdentity<T>(io: CommandIo, work: (identity: IdentityStore) => Promise<T>): Promise<T> {
  const config = loadConfig(io.env);
  refuseEmbeddedDirectory(config);
  const db = await openGatewayDatabase(config);
  try {
    return await work(new IdentityStore(db));
  } catch (error) {
    if (error instanceof IdentityError) throw new UsageError(`${error.code}: ${error.message}`);
    throw error;
  } finally {
    await db.close();
  }
}

export const create: CommandModule = {
  help: `Usage: tenge-gateway keys create (--role ROLE --name NAME [--id ID] | --principal ID) [--public-key KEY [--key-id ID]] [--label TEXT]

Registers a principal (or adds a credential to an existing one with --principal) and issues:
  an API key (default): printed once as JSON; only its hash is stored;
  an Ed25519 signing key (--public-key, 32 bytes hex or base64): callers sign requests (RFC 9421) with keyid.
Roles: ${ROLES.join(", ")}.
Writes directly to the database (DATABASE_URL or the embedded DATA_DIR); with a running embedded gateway,
use the operator API (POST /operator/principals) instead.`,
  async run(args, io) {
    const { values } = parseArgs({
      args,
      options: {
        role: { type: "string" },
        name: { type: "string" },
        id: { type: "string" },
        principal: { type: "string" },
        "public-key": { type: "string" },
        "key-id": { type: "string" },
        label: { type: "string" },
      },
      strict: true,
    });
    if (!values.principal && (!values.role || !values.name)) throw new UsageError("give --role and --name, or --principal");
    if (values.role && !isRole(values.role)) throw new UsageError(`--role must be one of ${ROLES.join(", ")}`);
    return withIdentity(io, async (identity) => {
      const principalId = values.principal ?? (await identity.createPrincipal(values.role as never, values.name!, values.id));
      if (values["public-key"]) {
        const keyId = await identity.registerSigningKey(principalId, values["public-key"], values["key-id"], values.label);
        io.out(JSON.stringify({ principal: principalId, keyId }));
      } else {
        const issued = await identity.issueApiKey(principalId, values.label);
        io.out(JSON.stringify({ principal: principalId, ...issued }));
      }
      return 0;
    });
  },
};

export const list: CommandModule = {
  help: `Usage: tenge-gateway keys list

Prints one JSON line per principal with its credentials (ids, kinds, public keys; never secrets).`,
  async run(args, io) {
    if (args.length > 0) throw new UsageError(`unexpected argument "${args[0]}"`);
    return withIdentity(io, async (identity) => {
      for (const principal of await identity.list()) io.out(JSON.stringify(principal));
      return 0;
    });
  },
};

export const revoke: CommandModule = {
  help: `Usage: tenge-gateway keys revoke (--principal ID | --credential ID)

--principal   revokes a principal and all its credentials
--credential  revokes one credential (API key id tgk_... or signing key id)
Takes effect on the next request.`,
  async run(args, io) {
    const { values, positionals } = parseArgs({ args, options: { principal: { type: "string" }, credential: { type: "string" } }, strict: true, allowPositionals: true });
    if (positionals.length > 0 || (values.principal === undefined) === (values.credential === undefined)) {
      throw new UsageError("give exactly one of --principal ID or --credential ID");
    }
    return withIdentity(io, async (identity) => {
      if (values.principal !== undefined) await identity.revokePrincipal(values.principal);
      else await identity.revokeCredential(values.credential!);
      const kind = values.principal !== undefined ? "principal" : "credential";
      io.out(JSON.stringify({ revoked: values.principal ?? values.credential, kind }));
      return 0;
    });
  },
};
