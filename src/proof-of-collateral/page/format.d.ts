// Types of the plain-JS formatting shared by the public page, the verifier and the CLI.
export function formatUnits(units: bigint | string | number, decimals?: number): string;
export function kzt(units: bigint | string | number, decimals?: number): string;
export function tiynFromKzt(major: string): bigint;
export function valueTicks(max: bigint | string | number, count?: number): bigint[];
export function tickLabel(tiyn: bigint | string | number): string;
export function timeTicks(start: number, end: number, count?: number): { step: number; ticks: number[] };
export function timeLabel(epochMs: number, step: number): string;
