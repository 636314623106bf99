import { parseArgs } from "node:util";
import { getAddress, isAddress, type Address } from "viem";
import { UsageError, type CommandIo, type CommandModule } from "../core/cli-command.ts";
import { ConfigError } from "../config/config.ts";
import { integer, privateKeyHex, SettingError, url, type SettingReader } from "../config/settings.ts";
import { DEFAULT_TOKEN_NAME, DEFAULT_TOKEN_SYMBOL, deployContracts } from "./deploy-contracts.ts";
import { DEMO_BOND } from "./deploy-security.ts";
import { isIsin } from "../core/isin.ts";

const help = `Usage: npx tenge-gateway contracts deploy [options]

Deploys and configures the DT stablecoin (TengeStablecoin) and the HTLC (HashTimeLock) on an EVM chain,
waits for the receipts and writes the addresses to <deployments-dir>/<chainId>.json. Idempotent: when that
file exists and every address in it has code on the chain, nothing is sent.

Options (each falls back to the environment variable named after it):
  --rpc-url URL                JSON-RPC endpoint of the chain                     EVM_RPC_URL
  --collateral-signer ADDRESS  DT ledger operator's statement signing address     COLLATERAL_SIGNER_ADDRESS
  --segregated-account ID      DT digital account of the segregated wallet        SEGREGATED_ACCOUNT
  --max-statement-age SECONDS  how old a collateral statement may be at mint      MAX_STATEMENT_AGE_SECONDS (3600)
  --deployments-dir DIR        where <chainId>.json is written                    DEPLOYMENTS_DIR (deployments)
  --token-name NAME            ERC-20 name                                        STABLECOIN_NAME (${DEFAULT_TOKEN_NAME})
  --token-symbol SYMBOL        ERC-20 symbol                                      STABLECOIN_SYMBOL (${DEFAULT_TOKEN_SYMBOL})
  --owner, --master-minter, --pauser, --blocklister, --rescuer ADDRESS
                               role holders (default: the deployer)
  --minter ADDRESS             configure this minter (needs the deployer as master minter)
                                                                                  STABLECOIN_MINTER_ADDRESS
  --minter-allowance TIYN      its mint allowance in tiyn                         STABLECOIN_MINTER_ALLOWANCE
  --confirmations N            blocks to wait for on each transaction             EVM_CONFIRMATIONS (1)
  --demo-foreign-cbdc          also deploy a demo foreign-CBDC ERC-20 for PvP legs
  --demo-bond                  also deploy the demo government bond (${DEMO_BOND.isin}, whole units)
                               for DvP, with the HTLC as its custodian
  --security-isin ISIN         deploy this security instead (name, symbol, decimals below)
  --security-name NAME, --security-symbol SYMBOL, --security-decimals N (0)
  --security-holder ADDRESS[:UNITS]
                               an eligible holder, issued UNITS (default 0); repeat for several
  --require-issuance-allotments
                               make the token mint only within the DT ledger's issuance allotment for
                               this chain (one pool backing several chains), before any minter is set.
                               ONE-WAY: it can never be turned off. Needs the deployer as owner
  --json                       print the deployment record as JSON

Environment only:
  EVM_DEPLOYER_KEY             0x-prefixed private key paying for the deployment (never printed)

Example:
  EVM_RPC_URL=http://127.0.0.1:8545 EVM_DEPLOYER_KEY=0x... \\
  npx tenge-gateway contracts deploy --collateral-signer 0xabc... --segregated-account KZ-DA-SEGREGATED-0001`;

const address: SettingReader<Address> = (raw) => {
  if (!isAddress(raw, { strict: false })) throw new SettingError(`must be a 0x-prefixed 20-byte address, got "${raw}"`);
  return getAddress(raw);
};
const tiyn: SettingReader<bigint> = (raw) => {
  if (!/^\d+$/.test(raw)) throw new SettingError(`must be a whole number of tiyn, got "${raw}"`);
  return BigInt(raw);
};

export async function run(args: string[], io: CommandIo): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args,
      options: {
        "rpc-url": { type: "string" },
        "collateral-signer": { type: "string" },
        "segregated-account": { type: "string" },
        "max-statement-age": { type: "string" },
        "deployments-dir": { type: "string" },
        "token-name": { type: "string" },
        "token-symbol": { type: "string" },
        owner: { type: "string" },
        "master-minter": { type: "string" },
        pauser: { type: "string" },
        blocklister: { type: "string" },
        rescuer: { type: "string" },
        minter: { type: "string" },
        "minter-allowance": { type: "string" },
        confirmations: { type: "string" },
        "demo-foreign-cbdc": { type: "boolean" },
        "demo-bond": { type: "boolean" },
        "security-isin": { type: "string" },
        "security-name": { type: "string" },
        "security-symbol": { type: "string" },
        "security-decimals": { type: "string" },
        "security-holder": { type: "string", multiple: true },
        "require-issuance-allotments": { type: "boolean" },
        json: { type: "boolean" },
      },
      strict: true,
      allowPositionals: false,
    });
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  const values = parsed.values;
  /** Reads an option, else its variable; `label` names whichever was used in errors. */
  function setting<T>(option: keyof typeof values, variable: string | undefined, read: SettingReader<T>): T | undefined;
  function setting<T>(option: keyof typeof values, variable: string | undefined, read: SettingReader<T>, fallback: T): T;
  function setting<T>(option: keyof typeof values, variable: string | undefined, read: SettingReader<T>, fallback?: T) {
    const fromOption = values[option];
    const raw = typeof fromOption === "string" ? fromOption : variable ? io.env[variable] : undefined;
    if (raw === undefined || raw === "") return fallback;
    try {
      return read(raw);
    } catch (error) {
      if (error instanceof SettingError) {
        const label = typeof fromOption === "string" ? `--${String(option)}` : variable!;
        throw new ConfigError(label, error.message);
      }
      throw error;
    }
  }
  const required = <T>(value: T | undefined, what: string): T => {
    if (value === undefined) throw new UsageError(`${what} is required (see --help)`);
    return value;
  };

  const rpcUrl = required(setting("rpc-url", "EVM_RPC_URL", url("http:", "https:")), "--rpc-url or EVM_RPC_URL");
  const keyRaw = io.env["EVM_DEPLOYER_KEY"];
  if (!keyRaw) throw new UsageError("EVM_DEPLOYER_KEY is required (the key is read from the environment only)");
  let deployerKey;
  try {
    deployerKey = privateKeyHex(keyRaw);
  } catch (error) {
    if (error instanceof SettingError) throw new ConfigError("EVM_DEPLOYER_KEY", error.message);
    throw error;
  }
  const text: SettingReader<string> = (raw) => raw;
  const minterAddress = setting("minter", "STABLECOIN_MINTER_ADDRESS", address);
  const minterAllowance = setting("minter-allowance", "STABLECOIN_MINTER_ALLOWANCE", tiyn);
  if ((minterAddress === undefined) !== (minterAllowance === undefined)) {
    throw new UsageError(
      minterAddress === undefined
        ? "--minter-allowance needs --minter ADDRESS (the minter it is for)"
        : "--minter needs --minter-allowance TIYN, its mint allowance in tiyn (100 tiyn = 1 KZT; 100000000000 = 1,000,000,000.00 KZT)",
    );
  }
  const roles: Partial<Record<"owner" | "masterMinter" | "pauser" | "blocklister" | "rescuer", Address>> = {};
  for (const [option, role] of [
    ["owner", "owner"],
    ["master-minter", "masterMinter"],
    ["pauser", "pauser"],
    ["blocklister", "blocklister"],
    ["rescuer", "rescuer"],
  ] as const) {
    const holder = setting(option, undefined, address);
    if (holder) roles[role] = holder;
  }

  const holders = (values["security-holder"] ?? []).map((entry) => {
    const [holderAddress = "", units = "0"] = entry.split(":");
    if (!isAddress(holderAddress, { strict: false }) || !/^\d+$/.test(units)) {
      throw new ConfigError("--security-holder", `must be ADDRESS or ADDRESS:UNITS (whole smallest units), got "${entry}"`);
    }
    return { address: getAddress(holderAddress), units: BigInt(units) };
  });
  const isin = values["security-isin"];
  if (isin !== undefined && !isIsin(isin)) throw new ConfigError("--security-isin", `must be an ISIN (2 letters, 9 letters or digits, a check digit), got "${isin.slice(0, 24)}"`);
  if (values["demo-bond"] && isin) throw new UsageError("--demo-bond and --security-isin are alternatives");
  if (!values["demo-bond"] && !isin && holders.length > 0) throw new UsageError("--security-holder needs --demo-bond or --security-isin");
  const security = values["demo-bond"]
    ? { ...DEMO_BOND, holders }
    : isin
      ? {
          isin,
          name: required(values["security-name"], "--security-name"),
          symbol: required(values["security-symbol"], "--security-symbol"),
          decimals: setting("security-decimals", undefined, integer(0, 18), 0),
          holders,
        }
      : undefined;

  const result = await deployContracts({
    rpcUrl,
    deployerKey,
    collateralSigner: required(
      setting("collateral-signer", "COLLATERAL_SIGNER_ADDRESS", address),
      "--collateral-signer or COLLATERAL_SIGNER_ADDRESS",
    ),
    segregatedAccount: required(
      setting("segregated-account", "SEGREGATED_ACCOUNT", text),
      "--segregated-account or SEGREGATED_ACCOUNT",
    ),
    maxStatementAge: BigInt(setting("max-statement-age", "MAX_STATEMENT_AGE_SECONDS", integer(1, 2 ** 32 - 1), 3600)),
    tokenName: setting("token-name", "STABLECOIN_NAME", text, DEFAULT_TOKEN_NAME),
    tokenSymbol: setting("token-symbol", "STABLECOIN_SYMBOL", text, DEFAULT_TOKEN_SYMBOL),
    roles,
    minters: minterAddress && minterAllowance !== undefined ? [{ address: minterAddress, allowance: minterAllowance }] : [],
    ...(values["demo-foreign-cbdc"] ? { demoForeignCbdc: { name: "Demo Foreign CBDC", symbol: "FCBDC", decimals: 2 } } : {}),
    ...(security ? { security } : {}),
    deploymentsDir: setting("deployments-dir", "DEPLOYMENTS_DIR", text, "deployments"),
    confirmations: setting("confirmations", "EVM_CONFIRMATIONS", integer(1, 1000), 1),
    ...(values["require-issuance-allotments"] ? { requireIssuanceAllotments: true } : {}),
  });

  const { deployment } = result;
  if (values.json) {
    io.out(JSON.stringify(deployment, (_key, value) => (typeof value === "bigint" ? value.toString() : value), 2));
    return 0;
  }
  io.out(
    result.reused
      ? `chain ${deployment.chainId}: already deployed, ${result.path} matches the chain; nothing sent`
      : `chain ${deployment.chainId}: deployed, addresses written to ${result.path}`,
  );
  for (const [name, contract] of Object.entries(deployment.contracts)) {
    io.out(`  ${name.padEnd(16)} ${contract.address}  (block ${contract.blockNumber})`);
  }
  if (deployment.security) {
    io.out(`  security ${deployment.security.isin} (${deployment.security.symbol}, ${deployment.security.decimals} decimals), ${deployment.security.holders.length} eligible holders`);
  }
  if (values["require-issuance-allotments"]) {
    const token = deployment.contracts.TengeStablecoin.address;
    io.out(`  issuance allotments required: the token mints nothing until the DT ledger allots this chain room`);
    io.out(`  to join the pool: add chainId ${deployment.chainId}, token ${token} to STABLECOIN_CHAINS; the DT ledger's pool`);
    io.out(`  takes it at zero under reference chain:${deployment.chainId}:${token} (addChain), then allots it room`);
  }
  for (const difference of result.differences) {
    io.err(`warning: ${difference}; the owner changes it on chain, this command does not`);
  }
  return 0;
}

export const deploy: CommandModule = { help, run };
