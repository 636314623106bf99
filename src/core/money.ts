import { CodedError } from "./errors.ts";

/**
 * ISO 4217 active currency codes and their minor units (number of decimals). Codes without minor units in
 * ISO 4217 (precious metals, XDR, test codes) are left out: CBPR+ payments do not carry them.
 */
const exponentZero = "BIF CLP DJF GNF ISK JPY KMF KRW PYG RWF UGX UYI VND VUV XAF XOF XPF";
const exponentThree = "BHD IQD JOD KWD LYD OMR TND";
const exponentFour = "CLF UYW";
const exponentTwo =
  "AED AFN ALL AMD ANG AOA ARS AUD AWG AZN BAM BBD BDT BGN BMD BND BOB BOV BRL BSD BTN BWP BYN BZD CAD CDF CHE CHF " +
  "CHW CNY COP COU CRC CUP CVE CZK DKK DOP DZD EGP ERN ETB EUR FJD FKP GBP GEL GHS GIP GMD GTQ GYD HKD HNL HTG HUF " +
  "IDR ILS INR IRR JMD KES KGS KHR KPW KYD KZT LAK LBP LKR LRD LSL MAD MDL MGA MKD MMK MNT MOP MRU MUR MVR MWK MXN " +
  "MXV MYR MZN NAD NGN NIO NOK NPR NZD PAB PEN PGK PHP PKR PLN QAR RON RSD RUB SAR SBD SCR SDG SEK SGD SHP SLE SOS " +
  "SRD SSP STN SVC SYP SZL THB TJS TMT TOP TRY TTD TWD TZS UAH USD USN UYU UZS VED VES WST XCD XCG YER ZAR ZMW ZWG";

const minorUnits = new Map<string, number>();
for (const [list, exponent] of [
  [exponentZero, 0],
  [exponentTwo, 2],
  [exponentThree, 3],
  [exponentFour, 4],
] as const) {
  for (const code of list.split(" ")) minorUnits.set(code, exponent);
}

/** Number of decimals of an ISO 4217 currency, or undefined for an unknown code. */
export function currencyMinorUnits(currency: string): number | undefined {
  return minorUnits.get(currency);
}

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

/** The Digital Tenge's currency: the stablecoin and the collateral count in its minor unit, the tiyn. */
export const KZT = "KZT" as const;

/**
 * Tenge amounts at the JSON edge: "1500.00" (KZT, up to 2 decimals) <-> bigint tiyn. Code inside works in
 * tiyn only.
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
