import { parseArgs } from "node:util";
import { UsageError } from "../core/cli-command.ts";
import type { DatabaseCommand, DatabaseCommandIo } from "../persistence/database-command.ts";
import { isRole, ROLES, type Role } from "./principal.ts";
import { IdentityError, IdentityStore, institutionFor } from "./store.ts";

async function withIdentity<T>(io: DatabaseCommandIo, work: (identity: IdentityStore) => Promise<T>): Promise<T> {
  const db = await io.openDatabase({ lasting: true });
  try {
    return await work(new IdentityStore(db));
  } catch (error) {
    if (error instanceof IdentityError) throw new UsageError(`${error.code}: ${error.message}`);
    throw error;
  } finally {
    await db.close();
  }
}

export const create: DatabaseCommand = {
  help: `Usage: npx tenge-gateway keys create (--role ROLE --name NAME [--id ID] [--bic BIC] [--dt-participant ID] | --principal ID)
         [--public-key KEY [--key-id ID]] [--label TEXT]

Registers a principal (or adds a credential to an existing one with --principal) and issues:
  an API key (default): printed once as JSON; only its hash is stored;
  an Ed25519 signing key (--public-key, 32 bytes hex or base64): callers sign requests (RFC 9421) with keyid.
Roles: ${ROLES.join(", ")}. Banks, correspondents, exchanges and brokers act for an institution: --bic is its BIC;
a bank (or a broker) also gives --dt-participant, the DT participant servicing its customers' accounts (it pays only from those).
Writes directly to the database; with a running embedded gateway, use the operator API (POST
/operator/principals) instead.
Settings: DATABASE_URL (unset: the embedded PGlite under DATA_DIR), also from TENGE_CONFIG_FILE (the gateway's settings file).`,
  async run(args, io) {
    const { values } = parseArgs({
      args,
      options: {
        role: { type: "string" },
        name: { type: "string" },
        id: { type: "string" },
        bic: { type: "string" },
        "dt-participant": { type: "string" },
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
      const principalId =
        values.principal ??
        (await identity.createPrincipal(values.role as Role, values.name!, values.id, institutionFor(values.role as Role, values.bic, values["dt-participant"])));
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

export const ledgerAccount: DatabaseCommand = {
  help: `Usage: npx tenge-gateway keys ledger-account --bic BIC --ledger LEDGER --account ACCOUNT

Registers an account on a foreign ledger (an EVM address on ledger evm) as the institution's: banks may
name it as a PvP foreign leg's payer or beneficiary only for that institution (the counterparty pays from
its accounts, the bank's side receives on its own).
Settings: DATABASE_URL (unset: the embedded PGlite under DATA_DIR), also from TENGE_CONFIG_FILE (the gateway's settings file).`,
  async run(args, io) {
    const { values } = parseArgs({ args, options: { bic: { type: "string" }, ledger: { type: "string" }, account: { type: "string" } }, strict: true });
    if (!values.bic || !values.ledger || !values.account) throw new UsageError("give --bic, --ledger and --account");
    return withIdentity(io, async (identity) => {
      await identity.registerLedgerAccount(values.bic!, values.ledger!, values.account!);
      io.out(JSON.stringify({ bic: values.bic, ledger: values.ledger, account: values.account }));
      return 0;
    });
  },
};

export const list: DatabaseCommand = {
  help: `Usage: npx tenge-gateway keys list

Prints one JSON line per principal with its credentials (ids, kinds, public keys; never secrets).
Settings: DATABASE_URL (unset: the embedded PGlite under DATA_DIR), also from TENGE_CONFIG_FILE (the gateway's settings file).`,
  async run(args, io) {
    if (args.length > 0) throw new UsageError(`unexpected argument "${args[0]}"`);
    return withIdentity(io, async (identity) => {
      for (const principal of await identity.list()) io.out(JSON.stringify(principal));
      return 0;
    });
  },
};

export const revoke: DatabaseCommand = {
  help: `Usage: npx tenge-gateway keys revoke (--principal ID | --credential ID)

--principal   revokes a principal and all its credentials
--credential  revokes one credential (API key id tgk_... or signing key id)
Takes effect on the next request.
Settings: DATABASE_URL (unset: the embedded PGlite under DATA_DIR), also from TENGE_CONFIG_FILE (the gateway's settings file).`,
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
