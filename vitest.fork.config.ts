import { defineConfig } from "vitest/config";

/** The fork suite: run by `npm run test:fork` (test/fork/run.ts), which provides FORK_URL and the addresses. */
export default defineConfig({
  test: {
    include: ["test/fork/**/*.test.ts"],
    testTimeout: 120_000,
    hookTimeout: 300_000,
    pool: "forks",
    fileParallelism: false,
  },
});
