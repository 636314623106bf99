import type { FastifyInstance } from "fastify";
import { typedRoutes } from "../server/app.ts";
import { KEY_STATUSES, publishedKeySet, type OwnSigningKeys } from "./published-keys.ts";

export const keySetSchema = {
  type: "object",
  required: ["agent", "keys"],
  properties: {
    agent: { type: "string", description: "the BIC whose messages these keys sign (AppHdr From)" },
    keys: {
      type: "array",
      items: {
        type: "object",
        required: ["keyId", "algorithm", "publicKey", "validFrom", "validUntil", "status"],
        properties: {
          keyId: { type: "string", description: "the keyid of the RFC 9421 Signature-Input" },
          algorithm: { type: "string", enum: ["ed25519"] },
          publicKey: { type: "string", description: "raw Ed25519 public key, 32 bytes, hex" },
          validFrom: { type: ["string", "null"] },
          validUntil: { type: ["string", "null"], description: "after it, the key verifies nothing" },
          status: { type: "string", enum: [...KEY_STATUSES] },
        },
      },
    },
  },
} as const;

/**
 * `GET /iso20022/keys`: the keys our messages to correspondents are signed with, public, for a
 * correspondent to fetch and pin (and pin again at every rotation).
 */
export function ownKeysRoute(agent: string, keys: OwnSigningKeys, clock: () => Date = () => new Date()) {
  return async function routes(fastify: FastifyInstance): Promise<void> {
    typedRoutes(fastify).get(
      "/iso20022/keys",
      {
        config: { access: "public" },
        schema: {
          tags: ["iso20022"],
          summary: "The public keys our signed ISO 20022 messages verify with (rotation: next, active, retiring, retired)",
          response: { 200: keySetSchema },
        },
      },
      async () => publishedKeySet(agent, keys, clock()),
    );
  };
}
