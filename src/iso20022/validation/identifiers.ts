import { isCountryCode } from "../reference/countries.ts";

/** Remainder of a base-36 alphanumeric string read as digits (A=10 ... Z=35), modulo 97 (ISO 7064). */
function mod97(value: string): number {
  let remainder = 0;
  for (let index = 0; index < value.length; index++) {
    const code = value.charCodeAt(index);
    const digits = code <= 57 ? code - 48 : code - 55;
    remainder = digits < 10 ? (remainder * 10 + digits) % 97 : (remainder * 100 + digits) % 97;
  }
  return remainder;
}

const bicPattern = /^[A-Z0-9]{4}([A-Z]{2})[A-Z0-9]{2}(?:[A-Z0-9]{3})?$/;

/** BIC (ISO 9362): 8 or 11 characters whose country part is a real ISO 3166 country. */
export function isValidBic(bic: string): boolean {
  const match = bicPattern.exec(bic);
  return match !== null && isCountryCode(match[1]!);
}

/** BIC8 and the same BIC with the primary-office branch "XXX" name one institution. */
export function sameInstitution(a: string, b: string): boolean {
  const normal = (bic: string) => (bic.length === 8 ? `${bic}XXX` : bic);
  return normal(a) === normal(b);
}

/** LEI (ISO 17442): 18 alphanumerics and 2 check digits, mod 97 = 1. */
export function isValidLei(lei: string): boolean {
  return /^[A-Z0-9]{18}[0-9]{2}$/.test(lei) && mod97(lei) === 1;
}

/** IBAN (ISO 13616): country, 2 check digits, up to 30 alphanumerics; rotated mod 97 = 1. */
export function isValidIban(iban: string): boolean {
  if (!/^[A-Z]{2}[0-9]{2}[A-Z0-9]{1,30}$/.test(iban) || !isCountryCode(iban.slice(0, 2))) return false;
  return mod97(iban.slice(4) + iban.slice(0, 4)) === 1;
}

/** UETR as CBPR+ wants it: a UUID version 4 (RFC 4122 variant) in lowercase. */
export function isValidUetr(uetr: string): boolean {
  return /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/.test(uetr);
}

/** ISODateTime with an explicit numeric offset, as CBPR+ requires (no bare local time, no "Z"). */
export function hasExplicitOffset(dateTime: string): boolean {
  return /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?[+-](?:0\d|1[0-4]):[0-5]\d$/.test(dateTime);
}

/** SWIFT FIN X set: a-z A-Z 0-9 / - ? : ( ) . , ' + space, and CR LF. */
export const finX = /^[A-Za-z0-9/\-?:().,'+ \r\n]*$/;
/** CBPR+ extended set: FIN X plus ! # $ % & * = ^ _ ` { | } ~ " ; < > @ [ \ ]. */
export const extendedSet = /^[A-Za-z0-9/\-?:().,'+ \r\n!#$%&*=^_`{|}~";<>@[\\\]]*$/;
