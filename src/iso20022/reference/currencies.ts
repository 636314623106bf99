/** @deprecated ISO 4217 minor units live in `src/core/money.ts`; this path stays for branches written before the move. */
export { currencyMinorUnits } from "../../core/money.ts";
