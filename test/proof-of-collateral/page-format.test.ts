import { describe, expect, it } from "vitest";
import { formatUnits, kzt, tickLabel, timeLabel, timeTicks, tiynFromKzt, valueTicks } from "../../src/proof-of-collateral/page/format.js";

/** The public page's formatting (plain JS shared with the browser): units, value ticks, time ticks. */
describe("proof-of-collateral page formatting", () => {
  it("formats minor units as grouped KZT with the token's decimals", () => {
    expect(kzt(100_150_000n)).toBe("1 001 500.00 KZT");
    expect(kzt("5")).toBe("0.05 KZT");
    expect(kzt(0n)).toBe("0.00 KZT");
    expect(kzt(1_001_500_000n, 3)).toBe("1 001 500.000 KZT");
    expect(formatUnits(-12_345n)).toBe("-123.45");
    expect(formatUnits(7n, 0)).toBe("7");
  });

  it("converts the history API's major-unit strings to tiyn exactly once, refusing anything else", () => {
    expect(tiynFromKzt("1001500.00")).toBe(100_150_000n);
    expect(tiynFromKzt("10025")).toBe(1_002_500n);
    expect(tiynFromKzt("0.5")).toBe(50n);
    expect(kzt(tiynFromKzt("1001500.00"))).toBe("1 001 500.00 KZT");
    for (const bad of ["", "1 000.00", "-1.00", "1.005", "1e5", "0x10", "1,00"]) expect(() => tiynFromKzt(bad)).toThrow(/not a KZT amount/);
  });

  it("puts round value ticks from 0 to at least the largest value, within 1.5 times it", () => {
    expect(valueTicks(100_150_000n)).toEqual([0n, 50_000_000n, 100_000_000n, 150_000_000n]);
    expect(valueTicks(100_000_000n)).toEqual([0n, 20_000_000n, 40_000_000n, 60_000_000n, 80_000_000n, 100_000_000n]);
    expect(valueTicks(0n)).toEqual([0n, 1n]);
    for (const max of [5n, 7n, 99n, 101n, 123_456_789n, 999_999_999_999n, 10n ** 17n + 1n]) {
      const ticks = valueTicks(max);
      const last = ticks[ticks.length - 1]!;
      expect(last >= max).toBe(true);
      expect(last * 2n < max * 3n).toBe(true);
      expect(ticks.length).toBeGreaterThanOrEqual(3);
      expect(ticks.length).toBeLessThanOrEqual(7);
      expect(ticks[0]).toBe(0n);
    }
    expect(tickLabel(150_000_000n)).toBe("1 500 000 KZT");
    expect(tickLabel(50n)).toBe("0.50 KZT");
  });

  it("puts a few readable time ticks inside the range, labelled as precisely as the step needs", () => {
    const start = Date.UTC(2026, 11, 7, 10, 0, 7);
    const hour = timeTicks(start, start + 60 * 60_000);
    expect(hour.step).toBe(15 * 60_000);
    expect(hour.ticks.length).toBeGreaterThanOrEqual(3);
    expect(hour.ticks.length).toBeLessThanOrEqual(5);
    for (const tick of hour.ticks) {
      expect(tick).toBeGreaterThanOrEqual(start);
      expect(tick).toBeLessThanOrEqual(start + 60 * 60_000);
      expect(timeLabel(tick, hour.step)).toMatch(/^\d{2}:\d{2}$/);
    }
    const quick = timeTicks(start, start + 900);
    expect(quick.step).toBe(200);
    expect(timeLabel(quick.ticks[0]!, quick.step)).toMatch(/^\d{2}:\d{2}:\d{2}\.\d{3}$/);
    const week = timeTicks(start, start + 7 * 86_400_000);
    expect(week.step).toBe(2 * 86_400_000);
    expect(timeLabel(week.ticks[0]!, week.step)).toMatch(/^\d{1,2} [A-Z][a-z]{2}$/);
    expect(timeTicks(start, start).ticks).toEqual([start]);
  });
});
