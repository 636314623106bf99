import { sha256, toHex } from "viem";
import { describe, expect, it } from "vitest";
import { DeploymentFileError, parseDeployment } from "../../src/evm/deployments.ts";
import { hashLockOf, PreimageLengthError } from "../../src/core/hash-lock.ts";

describe("hashLockOf", () => {
  it("is SHA-256 of a 32-byte preimage", () => {
    const preimage = toHex(123n, { size: 32 });
    expect(hashLockOf(preimage)).toBe(sha256(preimage));
  });

  it("refuses 31- and 33-byte preimages, as the contract and the DT ledger do", () => {
    expect(() => hashLockOf(toHex(1n, { size: 31 }))).toThrow(PreimageLengthError);
    expect(() => hashLockOf(toHex(1n, { size: 33 }))).toThrow(PreimageLengthError);
  });
});

describe("deployments file", () => {
  const valid = {
    chainId: 56,
    deployer: "0xf39fd6e51aad88f6f4ce6ab8827279cfffb92266",
    deployedAt: "2026-11-23T00:00:00.000Z",
    contracts: {
      TengeStablecoin: { address: "0x5fbdb2315678afecb367f032d93f642f64180aa3", transactionHash: "0x01", blockNumber: "7" },
      HashTimeLock: { address: "0xe7f1725e7734ce288f8367e1bb143e90bb3f0512", transactionHash: "0x02", blockNumber: "8" },
    },
    stablecoin: {
      name: "Digital Tenge Stablecoin",
      symbol: "KZTD",
      decimals: 2,
      owner: "0xf39fd6e51aad88f6f4ce6ab8827279cfffb92266",
      collateralSigner: "0x70997970c51812dc3a010c7d01b50e0d17dc79c8",
      segregatedAccount: "KZ-DA-SEGREGATED-0001",
      maxStatementAge: "3600",
    },
  };

  it("reads addresses (checksummed), block numbers and settings", () => {
    const deployment = parseDeployment("56.json", JSON.stringify(valid));
    expect(deployment.contracts.TengeStablecoin).toEqual({
      address: "0x5FbDB2315678afecb367f032d93F642f64180aa3",
      transactionHash: "0x01",
      blockNumber: 7n,
    });
    expect(deployment.contracts.DemoForeignCbdc).toBeUndefined();
    expect(deployment.stablecoin.maxStatementAge).toBe(3600n);
  });

  it("names the file and the field that is wrong", () => {
    expect(() => parseDeployment("56.json", "{")).toThrow(DeploymentFileError);
    const noHtlc = { ...valid, contracts: { TengeStablecoin: valid.contracts.TengeStablecoin } };
    expect(() => parseDeployment("56.json", JSON.stringify(noHtlc))).toThrow("56.json: has no contracts.HashTimeLock");
    const badAddress = { ...valid, deployer: "0x1234" };
    expect(() => parseDeployment("56.json", JSON.stringify(badAddress))).toThrow("deployer is not an address");
  });
});
