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
