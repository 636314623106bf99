import { randomBytes } from "node:crypto";
import { openSync, writeSync, closeSync } from "node:fs";
import { parseArgs } from "node:util";
import { privateKeyToAddress } from "viem/accounts";
import { CommandFailure, UsageError, type CommandIo, type CommandModule } from "../core/cli-command.ts";
import { ed25519PrivateKey, ed25519RawPublicKey } from "./http-signature.ts";

const TYPES = ["ed25519", "evm", "secret"] as const;
type KeyType = (typeof TYPES)[number];

/**
 * `keys generate`: a new private key written to a file of mode 0600 that did not exist before (never to stdout),
 * and its public half printed, so the operator registers the public half and points an `X_FILE` setting at the file.
 */
export const generate: CommandModule = {
  help: `Usage: npx tenge-gateway keys generate --type ed25519|evm|secret --out FILE

Generates a key for one of the settings that take a key file, writes it to FILE (mode 0600; refused when FILE
exists, so no key is overwritten) and prints its public half as JSON. The private half is never printed.
  --type ed25519  32-byte Ed25519 seed, hex: DT_LEDGER_SIGNING_KEY_FILE, PVP_SIGNING_KEY_FILE,
                  COLLATERAL_ATTESTATION_KEY_FILE. Prints {"publicKey": 64 hex digits} to register
                  (dt-ledger participants add --public-key, correspondents keys add --public-key).
  --type evm      secp256k1 key, 0x-prefixed hex: STABLECOIN_MINTER_KEY_FILE, DT_LEDGER_OPERATOR_KEY_FILE, a
                  payer key of PVP_FOREIGN_LEDGERS_FILE. Prints {"address"}: fund it with gas before it sends
                  transactions; give it to contracts deploy (--minter, --collateral-signer).
  --type secret   32 random bytes, hex: PVP_SECRET_KEY_FILE. Prints {}.

Reads no environment variable. Keep FILE outside the repository (for example under /etc/tenge-gateway/keys).`,
  async run(args: string[], io: CommandIo): Promise<number> {
    let values;
    try {
      values = parseArgs({ args, options: { type: { type: "string" }, out: { type: "string" } }, strict: true, allowPositionals: false }).values;
    } catch (error) {
      throw new UsageError((error as Error).message);
    }
    const type = values.type as KeyType | undefined;
    if (!type || !TYPES.includes(type)) throw new UsageError(`--type must be one of ${TYPES.join(", ")}`);
    if (!values.out) throw new UsageError("--out FILE is required: the private key is written there, never printed");
    const secret = randomBytes(32);
    const text = type === "evm" ? `0x${secret.toString("hex")}` : secret.toString("hex");
    const publicHalf =
      type === "ed25519"
        ? { publicKey: Buffer.from(ed25519RawPublicKey(ed25519PrivateKey(new Uint8Array(secret)))).toString("hex") }
        : type === "evm"
          ? { address: privateKeyToAddress(text as `0x${string}`) }
          : {};
    let fd: number;
    try {
      // "wx": never overwrite a key that may already be registered somewhere.
      fd = openSync(values.out, "wx", 0o600);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code ?? "unwritable";
      throw new CommandFailure("KEY_FILE_UNWRITABLE", code === "EEXIST" ? `${values.out} exists; a key is never overwritten (choose another --out)` : `cannot create ${values.out} (${code})`);
    }
    try {
      writeSync(fd, `${text}\n`);
    } finally {
      closeSync(fd);
    }
    io.out(JSON.stringify({ type, file: values.out, ...publicHalf }));
    return 0;
  },
};
