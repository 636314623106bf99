import { createCipheriv, createDecipheriv, randomBytes } from "node:crypto";
import type { Hex } from "viem";

const VERSION = "aes256gcm";

/**
 * Preimages at rest: AES-256-GCM under the gateway's key (setting PVP_SECRET_KEY, 32 bytes), with the PvP
 * id as associated data so a sealed secret copied onto another row does not open. A database dump or
 * backup without the key shows no secret, revealed or not. Stored as `aes256gcm:<iv>:<ciphertext>:<tag>` (hex).
 */
export class PreimageSeal {
  readonly #key: Buffer;

  constructor(key: Uint8Array) {
    if (key.length !== 32) throw new Error("the preimage key must be 32 bytes (64 hex characters)");
    this.#key = Buffer.from(key);
  }

  /** Parses the setting: 64 hex characters. */
  static fromHex(text: string): PreimageSeal {
    const trimmed = text.trim().replace(/^0x/, "");
    if (!/^[0-9a-fA-F]{64}$/.test(trimmed)) throw new Error("PVP_SECRET_KEY must be 32 bytes as 64 hex characters");
    return new PreimageSeal(Buffer.from(trimmed, "hex"));
  }

  seal(pvpId: string, preimage: Hex): string {
    const iv = randomBytes(12);
    const cipher = createCipheriv("aes-256-gcm", this.#key, iv);
    cipher.setAAD(Buffer.from(pvpId, "utf8"));
    const ciphertext = Buffer.concat([cipher.update(Buffer.from(preimage.slice(2), "hex")), cipher.final()]);
    return [VERSION, iv.toString("hex"), ciphertext.toString("hex"), cipher.getAuthTag().toString("hex")].join(":");
  }

  /** The preimage of a stored value; plain hex (rows written before sealing) is read as it is. */
  open(pvpId: string, stored: string): Hex {
    if (stored.startsWith("0x")) return stored as Hex;
    const [version, iv, ciphertext, tag] = stored.split(":");
    if (version !== VERSION || !iv || !ciphertext || !tag) throw new Error(`PvP ${pvpId}: the stored preimage is in an unknown format`);
    const decipher = createDecipheriv("aes-256-gcm", this.#key, Buffer.from(iv, "hex"));
    decipher.setAAD(Buffer.from(pvpId, "utf8"));
    decipher.setAuthTag(Buffer.from(tag, "hex"));
    // A wrong key or a tampered row throws here rather than yielding a wrong secret.
    const bytes = Buffer.concat([decipher.update(Buffer.from(ciphertext, "hex")), decipher.final()]);
    return `0x${bytes.toString("hex")}`;
  }
}

/** Without a key (unit tests of the engine only; the gateway always has one) preimages stay plain hex. */
export const plainPreimages = {
  seal: (_pvpId: string, preimage: Hex): string => preimage,
  open: (pvpId: string, stored: string): Hex => {
    if (!stored.startsWith("0x")) throw new Error(`PvP ${pvpId}: the preimage is sealed and this engine has no key`);
    return stored as Hex;
  },
};
