import { describe, expect, it } from "vitest";
import { amountFromDecimal, amountToDecimal } from "../../src/core/money.ts";
import { hasExplicitOffset, isValidBic, isValidIban, isValidLei, isValidUetr, sameInstitution } from "../../src/iso20022/validation/identifiers.ts";

describe("identifiers", () => {
  it("BIC: 8 or 11 characters with a real ISO 3166 country", () => {
    expect(isValidBic("NBRKKZKX")).toBe(true);
    expect(isValidBic("HSBKKZKXXXX")).toBe(true);
    expect(isValidBic("NBRKQQKX")).toBe(false);
    expect(isValidBic("NBRKKZK")).toBe(false);
    expect(isValidBic("nbrkkzkx")).toBe(false);
    expect(sameInstitution("NBRKKZKX", "NBRKKZKXXXX")).toBe(true);
    expect(sameInstitution("NBRKKZKX", "NBRKKZKXALM")).toBe(false);
  });

  it("LEI: ISO 17442 check digits (mod 97 = 1)", () => {
    expect(isValidLei("HWUPKR0MPOU8FGXBT394")).toBe(true);
    expect(isValidLei("7LTWFZYICNSX8D621K86")).toBe(true);
    expect(isValidLei("HWUPKR0MPOU8FGXBT395")).toBe(false);
    expect(isValidLei("HWUPKR0MPOU8FGXBT39")).toBe(false);
  });

  it("IBAN: ISO 13616 country and mod 97 check", () => {
    expect(isValidIban("GB82WEST12345698765432")).toBe(true);
    expect(isValidIban("DE89370400440532013000")).toBe(true);
    expect(isValidIban("KZ86125KZT5004100100")).toBe(true);
    expect(isValidIban("GB82WEST12345698765431")).toBe(false);
    expect(isValidIban("QQ82WEST12345698765432")).toBe(false);
  });

  it("UETR: lowercase UUID version 4", () => {
    expect(isValidUetr("8a562c67-ca16-48ba-b074-65581be6f001")).toBe(true);
    expect(isValidUetr("8A562C67-CA16-48BA-B074-65581BE6F001")).toBe(false);
    expect(isValidUetr("8a562c67-ca16-18ba-b074-65581be6f001")).toBe(false);
    expect(isValidUetr("8a562c67-ca16-48ba-c074-65581be6f001")).toBe(false);
  });

  it("date-times need a numeric offset", () => {
    expect(hasExplicitOffset("2026-11-23T10:00:00+05:00")).toBe(true);
    expect(hasExplicitOffset("2026-11-23T10:00:00.123-00:00")).toBe(true);
    expect(hasExplicitOffset("2026-11-23T10:00:00Z")).toBe(false);
    expect(hasExplicitOffset("2026-11-23T10:00:00")).toBe(false);
  });
});

describe("amounts in minor units", () => {
  it("reads decimals into the currency's minor unit", () => {
    expect(amountFromDecimal("15669.38", "EUR")).toEqual({ currency: "EUR", minorUnits: 1566938n });
    expect(amountFromDecimal("7500000.5", "KZT")).toEqual({ currency: "KZT", minorUnits: 750000050n });
    expect(amountFromDecimal("10", "USD")).toEqual({ currency: "USD", minorUnits: 1000n });
    expect(amountFromDecimal("1500", "JPY")).toEqual({ currency: "JPY", minorUnits: 1500n });
    expect(amountFromDecimal("1.125", "BHD")).toEqual({ currency: "BHD", minorUnits: 1125n });
    expect(amountFromDecimal("99999999999999999.99", "KZT").minorUnits).toBe(9999999999999999999n);
  });

  it("refuses what has no exact value in minor units", () => {
    expect(() => amountFromDecimal("1.001", "KZT")).toThrow(expect.objectContaining({ code: "AMOUNT_TOO_MANY_DECIMALS" }));
    expect(() => amountFromDecimal("1.5", "JPY")).toThrow(expect.objectContaining({ code: "AMOUNT_TOO_MANY_DECIMALS" }));
    expect(() => amountFromDecimal("1", "XYZ")).toThrow(expect.objectContaining({ code: "AMOUNT_CURRENCY_UNKNOWN" }));
    expect(() => amountFromDecimal("1e3", "KZT")).toThrow(expect.objectContaining({ code: "AMOUNT_SYNTAX" }));
  });

  it("writes the currency's number of decimals", () => {
    expect(amountToDecimal({ currency: "KZT", minorUnits: 150000n })).toBe("1500.00");
    expect(amountToDecimal({ currency: "KZT", minorUnits: 5n })).toBe("0.05");
    expect(amountToDecimal({ currency: "JPY", minorUnits: 1500n })).toBe("1500");
    expect(amountToDecimal({ currency: "BHD", minorUnits: 1125n })).toBe("1.125");
  });
});
