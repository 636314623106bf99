/** @deprecated money lives in `src/core/money.ts`; this path stays for branches written before the move. */
export { AmountError, amountFromDecimal, amountToDecimal, type Amount } from "../core/money.ts";
