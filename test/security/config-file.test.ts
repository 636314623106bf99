import { chmodSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { ConfigError, loadConfig } from "../../src/config/config.ts";

/** A settings file may hold any secret setting: one group or others can read is refused, naming no secret. */
describe("TENGE_CONFIG_FILE is readable by its owner only", () => {
  const dir = mkdtempSync(join(tmpdir(), "tg-config-file-"));
  const secret = "0x" + "ab".repeat(32);

  it.each([0o644, 0o640, 0o604, 0o660])("refuses mode %o with one line and reads nothing from it", (mode) => {
    const file = join(dir, `gateway-${mode.toString(8)}.json`);
    writeFileSync(file, JSON.stringify({ PORT: 9090, PVP_SECRET_KEY: secret }));
    chmodSync(file, mode);
    let refusal: unknown;
    try {
      loadConfig({ TENGE_CONFIG_FILE: file });
    } catch (error) {
      refusal = error;
    }
    expect(refusal).toBeInstanceOf(ConfigError);
    const message = (refusal as ConfigError).message;
    expect(message).toBe(`TENGE_CONFIG_FILE must not be readable by group or others (${file} has mode 0${mode.toString(8)}); chmod 600 it`);
    expect(message).not.toContain(secret);
    expect(message).not.toContain("\n");
  });

  it("reads the file at mode 0600 or 0400", () => {
    for (const mode of [0o600, 0o400]) {
      const file = join(dir, `ok-${mode.toString(8)}.json`);
      writeFileSync(file, JSON.stringify({ PORT: 9090 }));
      chmodSync(file, mode);
      expect(loadConfig({ TENGE_CONFIG_FILE: file }).port).toBe(9090);
    }
  });
});
