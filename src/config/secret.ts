import { readFileSync, statSync } from "node:fs";
import { ConfigError, parseSetting } from "./config.ts";
import { SettingError, type SettingReader } from "./settings.ts";

/**
 * Reads a secret setting `name` from its value (`name`) or from a file (`name_FILE`). The file must not be
 * readable or writable by group or others, so a key cannot sit in a world-readable file by mistake.
 * Errors name the variable and never carry the value.
 */
export function readSecret<T>(env: Record<string, string | undefined>, name: string, reader: SettingReader<T>): T | undefined {
  const inline = env[name];
  const path = env[`${name}_FILE`];
  if (inline && path) throw new ConfigError(name, `and ${name}_FILE are both set; give one`);
  if (path) return parseSetting(`${name}_FILE`, readSecretFile(`${name}_FILE`, path), reader);
  if (inline) return parseSetting(name, inline.trim(), reader);
  return undefined;
}

/** The trimmed text of a secret file, refused unless its mode is 0600 or stricter. */
export function readSecretFile(variable: string, path: string): string {
  let mode: number;
  try {
    mode = statSync(path).mode;
  } catch (error) {
    throw new ConfigError(variable, `must name a readable file (${(error as NodeJS.ErrnoException).code ?? "unreadable"}: ${path})`);
  }
  if ((mode & 0o077) !== 0) {
    throw new ConfigError(variable, `must not be readable by group or others (${path} has mode ${(mode & 0o777).toString(8).padStart(4, "0")}); chmod 600 it`);
  }
  try {
    return readFileSync(path, "utf8").trim();
  } catch (error) {
    throw new ConfigError(variable, `must name a readable file (${(error as NodeJS.ErrnoException).code ?? "unreadable"}: ${path})`);
  }
}

/** 32 bytes of hex (an Ed25519 seed, an AES key), with or without 0x. Never echoed back. */
export const bytes32Hex: SettingReader<Uint8Array> = (raw) => {
  if (!/^(0x)?[0-9a-fA-F]{64}$/.test(raw)) throw new SettingError("must be 32 bytes of hex");
  return new Uint8Array(Buffer.from(raw.replace(/^0x/, ""), "hex"));
};
