import type { StablecoinLedger } from "./stablecoin-ledger.ts";

/**
 * The collateral intake: the gateway's DT account exchanges pay mint deposits into. The ledger credits the
 * segregated wallet only from its servicer's own accounts, so DT reaches the wallet (and so a collateral
 * statement) only when the mint worker moves a matched deposit on; a deposit that matches nothing stays in
 * the intake until an operator returns it (docs/proof-of-collateral.md).
 *
 * Opened once per segregated wallet: the idempotency key makes every process and every restart get the same
 * account back, so nothing needs configuring.
 */
export async function openCollateralIntake(ledger: Pick<StablecoinLedger, "openAccount">, segregatedAccount: string): Promise<string> {
  const account = await ledger.openAccount({
    idempotencyKey: `collateral-intake:${segregatedAccount}`,
    kind: "collateral_intake",
    holderName: "Tenge Gateway collateral intake",
  });
  return account.id;
}
