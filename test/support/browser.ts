import { existsSync } from "node:fs";
import { chromium, type Browser } from "playwright-core";

/** Debian's Chromium, where the machine has one. */
const systemChromium = "/usr/bin/chromium";

/**
 * Real headless Chromium for browser tests: the system's when installed, else the one shipped inside the npm
 * package @sparticuz/chromium (decompressed into the temp directory on first use), so `npm ci && npm test`
 * needs no browser on the machine and downloads nothing at run time.
 */
export async function launchChromium(): Promise<Browser> {
  // Not the package's own serverless flags: --single-process ends the browser with its last page, and
  // --disable-web-security would hide the cross-origin checks a visitor's browser makes.
  const args = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"];
  if (existsSync(systemChromium)) return chromium.launch({ executablePath: systemChromium, args });
  const { default: packaged } = await import("@sparticuz/chromium");
  packaged.setGraphicsMode = false; // no WebGL needed: skips unpacking SwiftShader
  return chromium.launch({ executablePath: await packaged.executablePath(), args });
}
