import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { createHardhatRuntimeEnvironment } from "hardhat/hre";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import config from "../../hardhat.config.ts";
import { bindingFiles, renderBindingFile } from "../../src/evm/bindings.ts";

let scratch: string;

beforeAll(async () => {
  // A forced compile into a scratch directory, so neither the developer's artifacts nor its cache count.
  scratch = await mkdtemp(join(tmpdir(), "contracts-build-"));
  const hre = await createHardhatRuntimeEnvironment(
    { ...config, paths: { ...config.paths, artifacts: join(scratch, "artifacts"), cache: join(scratch, "cache") } },
    {},
    process.cwd(),
  );
  await hre.tasks.getTask("build").run({ force: true, quiet: true });
}, 180_000);
afterAll(() => rm(scratch, { recursive: true, force: true }));

describe("committed contract bindings", () => {
  it.each(bindingFiles.map((file) => [relative(process.cwd(), file.path), file] as const))(
    "%s matches a fresh compile of contracts-evm/ (run npm run build:contracts after changing a contract)",
    async (_name, file) => {
      const fresh = await renderBindingFile(file, join(scratch, "artifacts"));
      expect(await readFile(file.path, "utf8")).toBe(fresh);
    },
  );
});
