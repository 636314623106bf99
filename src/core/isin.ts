import { CodedError } from "./errors.ts";

/** An ISIN (ISO 6166) whose shape or check digit is wrong. */
export class IsinError extends CodedError<"ISIN_INVALID"> {
  constructor(isin: string, problem: string) {
    super("ISIN_INVALID", `ISIN "${isin.slice(0, 24)}" ${problem}`, { isin: isin.slice(0, 24) });
  }
}

/** Whether `isin` is 2 letters, 9 alphanumerics and a Luhn check digit over the letters-as-numbers (ISO 6166). */
export function isIsin(isin: string): boolean {
  if (!/^[A-Z]{2}[A-Z0-9]{9}[0-9]$/.test(isin)) return false;
  // Letters become two digits (A=10 ... Z=35); then Luhn from the rightmost digit.
  const digits = [...isin].map((character) => parseInt(character, 36).toString()).join("");
  let sum = 0;
  for (let index = 0; index < digits.length; index++) {
    let digit = Number(digits[digits.length - 1 - index]);
    if (index % 2 === 1) {
      digit *= 2;
      if (digit > 9) digit -= 9;
    }
    sum += digit;
  }
  return sum % 10 === 0;
}

/** Returns `isin` when it is a valid ISIN, else throws IsinError ISIN_INVALID. */
export function parseIsin(isin: string): string {
  if (!/^[A-Z]{2}[A-Z0-9]{9}[0-9]$/.test(isin)) throw new IsinError(isin, "is not 2 letters, 9 letters or digits and a check digit");
  if (!isIsin(isin)) throw new IsinError(isin, "has a wrong check digit");
  return isin;
}
