import { getContract, type Address, type Hex, type PrivateKeyAccount } from "viem";
import { generatePrivateKey, privateKeyToAccount } from "viem/accounts";
import { tengeStablecoinAbi, tengeStablecoinBytecode } from "../../../src/evm/generated/contracts.ts";
import {
  signCollateralStatement,
  type CollateralStatement,
} from "../../../src/ledger/collateral-statement.ts";
import { confirmed, type TestChain } from "./chain.ts";

export const SEGREGATED_ACCOUNT = "KZ-DA-SEGREGATED-0001";
export const TOKEN_NAME = "Digital Tenge Stablecoin";
export const MAX_STATEMENT_AGE = 3600n;

/** A deployed stablecoin with one account per role and a collateral signer key. */
export async function deployStablecoin(chain: TestChain, options: { signerKey?: Hex } = {}) {
  const [owner, masterMinter, pauser, blocklister, rescuer, minter, alice, bob, carol, mallory] = Array.from(
    { length: 10 },
    (_, index) => chain.accounts[index]!,
  ) as [PrivateKeyAccount, PrivateKeyAccount, PrivateKeyAccount, PrivateKeyAccount, PrivateKeyAccount,
    PrivateKeyAccount, PrivateKeyAccount, PrivateKeyAccount, PrivateKeyAccount, PrivateKeyAccount];
  const signerKey = options.signerKey ?? generatePrivateKey();
  const signer = privateKeyToAccount(signerKey);
  const hash = await chain.wallet(owner).deployContract({
    abi: tengeStablecoinAbi,
    bytecode: tengeStablecoinBytecode,
    args: [
      {
        name: TOKEN_NAME,
        symbol: "KZTD",
        owner: owner.address,
        masterMinter: masterMinter.address,
        pauser: pauser.address,
        blocklister: blocklister.address,
        rescuer: rescuer.address,
        collateralSigner: signer.address,
        segregatedAccount: SEGREGATED_ACCOUNT,
        maxStatementAge: MAX_STATEMENT_AGE,
      },
    ],
  });
  const receipt = await confirmed(chain, Promise.resolve(hash));
  const address = receipt.contractAddress!;
  const tokenAs = (account: PrivateKeyAccount) =>
    getContract({ address, abi: tengeStablecoinAbi, client: { public: chain.publicClient, wallet: chain.wallet(account) } });
  const token = tokenAs(owner);

  /** A statement signed by the collateral signer; by default the next height, timestamp now. */
  const statement = async (balance: bigint, overrides: Partial<CollateralStatement> & { key?: Hex } = {}) => {
    const [, latestHeight] = await chain.publicClient.readContract({
      address,
      abi: tengeStablecoinAbi,
      functionName: "latestCollateralStatement",
    });
    const height = overrides.height ?? latestHeight + 1n;
    const message: CollateralStatement = {
      account: overrides.account ?? SEGREGATED_ACCOUNT,
      balance,
      paidOut: overrides.paidOut ?? 0n,
      height,
      timestamp: overrides.timestamp ?? (await chain.now()),
    };
    const signature = await signCollateralStatement(overrides.key ?? signerKey, message, {
      chainId: chain.chainId,
      verifyingContract: address,
    });
    return { message, signature };
  };
  const submit = async (signed: { message: CollateralStatement; signature: Hex }, by = mallory) =>
    confirmed(chain, tokenAs(by).write.submitCollateralStatement([signed.message, signed.signature]));
  const configureMinter = (account: Address, allowance: bigint) =>
    confirmed(chain, tokenAs(masterMinter).write.configureMinter([account, allowance]));
  const mint = (to: Address, amount: bigint, by = minter) => confirmed(chain, tokenAs(by).write.mint([to, amount]));

  return {
    address,
    token,
    tokenAs,
    signerKey,
    signer,
    roles: { owner, masterMinter, pauser, blocklister, rescuer, minter },
    holders: { alice, bob, carol, mallory },
    statement,
    submit,
    configureMinter,
    mint,
    /** Configures the minter and submits a statement backing `collateral` tiyn. */
    async fund(collateral: bigint, allowance = 10n ** 18n) {
      await configureMinter(minter.address, allowance);
      await submit(await statement(collateral));
    },
  };
}

export type StablecoinFixture = Awaited<ReturnType<typeof deployStablecoin>>;
