import { AmountError } from "../iso20022/amount.ts";

/**
 * Tenge amounts at the JSON edge: "1500.00" (KZT, up to 2 decimals) <-> bigint tiyn. Code inside works in
 * tiyn only; one stablecoin unit (2 decimals) is one tiyn.
 */
const KZT_PATTERN = /^(\d{1,16})(?:\.(\d{1,2}))?$/;

/** Parses "1500", "1500.5" or "1500.50" into tiyn; refuses signs, exponents and more than 2 decimals. */
export function parseKzt(text: string): bigint {
  const match = KZT_PATTERN.exec(text);
  if (!match) throw new AmountError("INVALID_AMOUNT", `"${text}" is not a KZT amount like 1500.00`);
  return BigInt(match[1]!) * 100n + BigInt((match[2] ?? "0").padEnd(2, "0"));
}

/** Formats tiyn as KZT with exactly 2 decimals. */
export function formatKzt(tiyn: bigint): string {
  const sign = tiyn < 0n ? "-" : "";
  const absolute = tiyn < 0n ? -tiyn : tiyn;
  return `${sign}${absolute / 100n}.${(absolute % 100n).toString().padStart(2, "0")}`;
}

/** Every object that carries amounts carries this currency beside them: `{ "amount": "2500.00", "currency": "KZT" }`. */
export const CURRENCY = "KZT" as const;
export const currencySchema = { type: "string", const: CURRENCY, description: "the currency of every amount in this object" } as const;

/** JSON schema of an amount field at the API edge. */
export const kztSchema = { type: "string", pattern: "^\\d{1,16}(\\.\\d{1,2})?$", description: "KZT with up to 2 decimals" } as const;
