import { CodedError } from "../core/errors.ts";

/**
 * Typed readers for configuration values. Each reader gets the raw string and either returns the value
 * or throws a SettingError whose message finishes the sentence "VARIABLE must be ...".
 */
export class SettingError extends CodedError<"SETTING_INVALID"> {
  constructor(problem: string) {
    super("SETTING_INVALID", problem);
  }
}

export type SettingReader<T> = (raw: string) => T;

export const text: SettingReader<string> = (raw) => {
  if (raw.trim() === "") throw new SettingError("must not be empty");
  return raw;
};

export function integer(min: number, max: number): SettingReader<number> {
  return (raw) => {
    if (!/^-?\d+$/.test(raw.trim())) throw new SettingError(`must be an integer from ${min} to ${max}, got "${raw}"`);
    const value = Number(raw);
    if (value < min || value > max) throw new SettingError(`must be an integer from ${min} to ${max}, got ${raw}`);
    return value;
  };
}

export function oneOf<T extends string>(...choices: T[]): SettingReader<T> {
  return (raw) => {
    if (!(choices as string[]).includes(raw)) throw new SettingError(`must be one of ${choices.join(", ")}, got "${raw}"`);
    return raw as T;
  };
}

export const boolean: SettingReader<boolean> = (raw) => {
  if (["1", "true", "yes", "on"].includes(raw.toLowerCase())) return true;
  if (["0", "false", "no", "off"].includes(raw.toLowerCase())) return false;
  throw new SettingError(`must be true or false, got "${raw}"`);
};

export function url(...protocols: string[]): SettingReader<string> {
  return (raw) => {
    let parsed: URL;
    try {
      parsed = new URL(raw);
    } catch {
      throw new SettingError(`must be a URL (${protocols.join(" or ")}), got something that is not a URL`);
    }
    if (!protocols.includes(parsed.protocol)) {
      throw new SettingError(`must be a ${protocols.join(" or ")} URL, got ${parsed.protocol}`);
    }
    return raw;
  };
}

/** A 32-byte hex private key (0x-prefixed). Never echoed back in errors. */
export const privateKeyHex: SettingReader<`0x${string}`> = (raw) => {
  if (!/^0x[0-9a-fA-F]{64}$/.test(raw)) throw new SettingError("must be a 0x-prefixed 32-byte hex private key");
  return raw as `0x${string}`;
};
