import { toHex, type Address, type Hex, type PrivateKeyAccount } from "viem";

/** EIP-712 messages of permit (EIP-2612) and transfer authorizations (EIP-3009) for the stablecoin. */
export function tokenDomain(chainId: number, token: Address, name: string) {
  return { name, version: "1", chainId, verifyingContract: token } as const;
}

const transferFields = [
  { name: "from", type: "address" },
  { name: "to", type: "address" },
  { name: "value", type: "uint256" },
  { name: "validAfter", type: "uint256" },
  { name: "validBefore", type: "uint256" },
  { name: "nonce", type: "bytes32" },
] as const;

export interface Authorization {
  from: Address;
  to: Address;
  value: bigint;
  validAfter: bigint;
  validBefore: bigint;
  nonce: Hex;
}

export function signTransferAuthorization(
  signer: PrivateKeyAccount,
  domain: ReturnType<typeof tokenDomain>,
  kind: "TransferWithAuthorization" | "ReceiveWithAuthorization",
  message: Authorization,
): Promise<Hex> {
  return signer.signTypedData({ domain, types: { [kind]: transferFields }, primaryType: kind, message } as never);
}

export function signCancelAuthorization(
  signer: PrivateKeyAccount,
  domain: ReturnType<typeof tokenDomain>,
  message: { authorizer: Address; nonce: Hex },
): Promise<Hex> {
  return signer.signTypedData({
    domain,
    types: { CancelAuthorization: [{ name: "authorizer", type: "address" }, { name: "nonce", type: "bytes32" }] },
    primaryType: "CancelAuthorization",
    message,
  });
}

export function signPermit(
  signer: PrivateKeyAccount,
  domain: ReturnType<typeof tokenDomain>,
  message: { owner: Address; spender: Address; value: bigint; nonce: bigint; deadline: bigint },
): Promise<Hex> {
  return signer.signTypedData({
    domain,
    types: {
      Permit: [
        { name: "owner", type: "address" },
        { name: "spender", type: "address" },
        { name: "value", type: "uint256" },
        { name: "nonce", type: "uint256" },
        { name: "deadline", type: "uint256" },
      ],
    },
    primaryType: "Permit",
    message,
  });
}

let nonceCounter = 0n;
/** A fresh random-looking 32-byte nonce. */
export function freshNonce(): Hex {
  nonceCounter += 1n;
  return toHex(nonceCounter * 0x9e3779b97f4a7c15n, { size: 32 });
}
