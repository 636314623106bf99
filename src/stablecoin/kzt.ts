import { formatKzt, KZT, parseKzt } from "../core/money.ts";

/** One stablecoin unit (2 decimals) is one tiyn; the KZT edge helpers live with the rest of money in core. */
export { formatKzt, parseKzt };

/** Every object that carries amounts carries this currency beside them: `{ "amount": "2500.00", "currency": "KZT" }`. */
export const CURRENCY = KZT;
export const currencySchema = { type: "string", const: CURRENCY, description: "the currency of every amount in this object" } as const;

/** JSON schema of an amount field at the API edge. */
export const kztSchema = { type: "string", pattern: "^\\d{1,16}(\\.\\d{1,2})?$", description: "KZT with up to 2 decimals" } as const;
