import { createRequire } from "node:module";
import hardhatViem from "@nomicfoundation/hardhat-viem";
import { defineConfig } from "hardhat/config";

// Hardhat cannot download compilers here: it compiles with the solc npm package (solcjs, offline).
const solcjs = createRequire(import.meta.url).resolve("solc/soljson.js");

export default defineConfig({
  plugins: [hardhatViem],
  paths: { sources: "contracts-evm" },
  solidity: {
    compilers: [
      {
        version: "0.8.30",
        path: solcjs,
        settings: { optimizer: { enabled: true, runs: 10_000 }, evmVersion: "cancun" },
      },
    ],
  },
  networks: {
    default: { type: "edr-simulated", chainType: "l1", hardfork: "cancun", allowUnlimitedContractSize: false },
  },
});
