import { CodedError } from "../errors.ts";
import { currencyMinorUnits } from "./reference/currencies.ts";

/** Money as the gateway holds it: an integer count of the currency's minor unit (tiyn for KZT). */
export interface Amount {
  currency: string;
  minorUnits: bigint;
}

/**
 * An XML amount that has no exact value in minor units (unknown currency, too many decimals, bad syntax), or
 * an API amount that is not one (INVALID_AMOUNT, the stablecoin's KZT strings).
 */
export class AmountError extends CodedError<"AMOUNT_CURRENCY_UNKNOWN" | "AMOUNT_TOO_MANY_DECIMALS" | "AMOUNT_SYNTAX" | "INVALID_AMOUNT"> {}

const decimalPattern = /^(\d+)(?:\.(\d*))?$/;

/** `"15669.38"` in EUR -> 1566938n. */
export function amountFromDecimal(text: string, currency: string): Amount {
  const exponent = currencyMinorUnits(currency);
  if (exponent === undefined) throw new AmountError("AMOUNT_CURRENCY_UNKNOWN", `unknown ISO 4217 currency ${currency}`);
  const match = decimalPattern.exec(text.trim());
  if (!match) throw new AmountError("AMOUNT_SYNTAX", `"${text}" is not a decimal amount`);
  const fraction = (match[2] ?? "").replace(/0+$/, "");
  if (fraction.length > exponent) {
    throw new AmountError("AMOUNT_TOO_MANY_DECIMALS", `${currency} has ${exponent} decimals; "${text}" has more`);
  }
  return { currency, minorUnits: BigInt(match[1]! + fraction.padEnd(exponent, "0")) };
}

/** 1566938n EUR -> `"15669.38"`; always the currency's number of decimals. */
export function amountToDecimal(amount: Amount): string {
  const exponent = currencyMinorUnits(amount.currency);
  if (exponent === undefined) throw new AmountError("AMOUNT_CURRENCY_UNKNOWN", `unknown ISO 4217 currency ${amount.currency}`);
  if (amount.minorUnits < 0n) throw new AmountError("AMOUNT_SYNTAX", "ISO 20022 amounts are never negative");
  const digits = amount.minorUnits.toString().padStart(exponent + 1, "0");
  return exponent === 0 ? digits : `${digits.slice(0, -exponent)}.${digits.slice(-exponent)}`;
}
