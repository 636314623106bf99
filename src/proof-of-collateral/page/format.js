// Amount, scale and time-axis formatting for the public proof-of-collateral page and the verifier's check
// details. Plain ES module without dependencies: the browser loads it from /collateral/assets/ and Node
// imports the same file (CLI, tests).
//
// Units, once and for all: the signed attestation carries integer minor units (tiyn for the DT collateral,
// token units with `supply.decimals` for the supply; 1 token = 1 KZT); the history API carries KZT in major
// units as strings with exactly 2 decimals ("1001500.00"). `tiynFromKzt` is the one conversion from the
// second to the first; everything else on the page works in minor units.

const group = (digits) => digits.replace(/\B(?=(\d{3})+(?!\d))/g, " ");

/** An integer amount of minor units with `decimals` decimals as grouped major units: 100150000n, 2 → "1 001 500.00". */
export function formatUnits(units, decimals = 2) {
  let value = BigInt(units);
  const negative = value < 0n;
  if (negative) value = -value;
  const scale = 10n ** BigInt(decimals);
  const whole = group((value / scale).toString());
  const fraction = decimals > 0 ? `.${(value % scale).toString().padStart(decimals, "0")}` : "";
  return `${negative ? "-" : ""}${whole}${fraction}`;
}

/** Minor units (tiyn, or token units with `decimals` decimals) as KZT: 100150000n → "1 001 500.00 KZT". */
export function kzt(units, decimals = 2) {
  return `${formatUnits(units, decimals)} KZT`;
}

/** The history API's major-unit string ("1001500.00", up to 2 decimals) as integer tiyn; anything else throws. */
export function tiynFromKzt(major) {
  const match = /^(\d{1,16})(?:\.(\d{1,2}))?$/.exec(String(major));
  if (!match) throw new Error(`not a KZT amount in major units: ${JSON.stringify(major)}`);
  return BigInt(match[1]) * 100n + BigInt((match[2] ?? "").padEnd(2, "0"));
}

/**
 * Round value-axis ticks from 0 up to at least `max` (minor units, bigint), about `count` of them, with steps
 * of 1, 2 or 5 times a power of ten: returns bigints, the last one >= max (below 1.5 × max once max >= count).
 */
export function valueTicks(max, count = 5) {
  const top = BigInt(max) > 0n ? BigInt(max) : 1n;
  const rough = top / BigInt(count) > 0n ? top / BigInt(count) : 1n;
  let power = 1n;
  while (power * 10n <= rough) power *= 10n;
  let step = [1n, 2n, 5n, 10n].map((factor) => factor * power).find((candidate) => candidate * BigInt(count) >= top);
  step ??= 10n * power;
  const ticks = [];
  for (let tick = 0n; ; tick += step) {
    ticks.push(tick);
    if (tick >= top) break;
  }
  return ticks;
}

/** A value-axis label in KZT: whole tenge without decimals ("1 200 000 KZT"), otherwise with 2 ("0.50 KZT"). */
export function tickLabel(tiyn) {
  const value = BigInt(tiyn);
  return value % 100n === 0n ? `${group((value / 100n).toString())} KZT` : kzt(value);
}

const SECOND = 1000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;
const TIME_STEPS = [
  1, 2, 5, 10, 20, 50, 100, 200, 500,
  SECOND, 2 * SECOND, 5 * SECOND, 10 * SECOND, 15 * SECOND, 30 * SECOND,
  MINUTE, 2 * MINUTE, 5 * MINUTE, 10 * MINUTE, 15 * MINUTE, 30 * MINUTE,
  HOUR, 2 * HOUR, 3 * HOUR, 6 * HOUR, 12 * HOUR,
  DAY, 2 * DAY, 7 * DAY, 14 * DAY, 30 * DAY, 90 * DAY, 180 * DAY, 365 * DAY,
];

/**
 * Round time-axis ticks (epoch milliseconds) inside [start, end], at most `count` of them, on whole
 * multiples of a readable step (1 ms … 1 year); `step` tells the label how precise to be.
 */
export function timeTicks(start, end, count = 5) {
  const span = Math.max(end - start, 1);
  const step = TIME_STEPS.find((candidate) => span / candidate <= count) ?? TIME_STEPS[TIME_STEPS.length - 1];
  // Steps of a day or more fall on local midnights, shorter ones on whole multiples in local time.
  const offset = new Date(start).getTimezoneOffset() * MINUTE;
  const ticks = [];
  for (let tick = Math.ceil((start - offset) / step) * step + offset; tick <= end; tick += step) ticks.push(tick);
  return { step, ticks };
}

const pad2 = (number) => String(number).padStart(2, "0");

/** A time-axis label as precise as the step needs: "7 Dec", "14:30", "14:30:15", "14:30:15.250" (local time). */
export function timeLabel(epochMs, step) {
  const date = new Date(epochMs);
  if (step >= DAY) return `${date.getDate()} ${date.toLocaleString("en", { month: "short" })}`;
  const minutes = `${pad2(date.getHours())}:${pad2(date.getMinutes())}`;
  if (step >= MINUTE) return minutes;
  const seconds = `${minutes}:${pad2(date.getSeconds())}`;
  return step >= SECOND ? seconds : `${seconds}.${String(date.getMilliseconds()).padStart(3, "0")}`;
}
