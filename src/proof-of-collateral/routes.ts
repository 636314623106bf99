import { readFileSync } from "node:fs";
import { dirname, join, normalize } from "node:path";
import { fileURLToPath } from "node:url";
import type { FastifyInstance } from "fastify";
import { pageSchema } from "../core/paging.ts";
import { CodedError } from "../core/errors.ts";
import { typedRoutes } from "../server/app.ts";
import { errorSchema } from "../server/errors.ts";
import type { AttestationService } from "./attestation-service.ts";

export interface ProofOfCollateralRouteOptions {
  attestations: AttestationService;
}

const pageDirectory = fileURLToPath(new URL("./page/", import.meta.url));
const PAGE_ASSETS: Record<string, string> = {
  "collateral.js": "text/javascript; charset=utf-8",
  "verify-attestation.js": "text/javascript; charset=utf-8",
  "format.js": "text/javascript; charset=utf-8",
};

/** Directory of an installed package, found through one of its exported modules. */
function packageDirectory(module: string): string {
  return dirname(fileURLToPath(import.meta.resolve(module)));
}

// The browser gets @noble/curves and @noble/hashes as they are installed (pure ES modules with relative
// imports); the page's import map points bare imports here, so no bundler and no CDN is needed.
const VENDORED: Record<string, string> = {
  "noble-curves": packageDirectory("@noble/curves/ed25519.js"),
  "noble-hashes": packageDirectory("@noble/hashes/sha3.js"),
};

const ATTESTATION_HEADERS = { "content-type": "application/json; charset=utf-8", "cache-control": "no-cache" };

const cache = new Map<string, Buffer>();
function readCached(path: string): Buffer {
  let content = cache.get(path);
  if (!content) {
    content = readFileSync(path);
    cache.set(path, content);
  }
  return content;
}

const kztSchema = (description: string) => ({ type: "string", pattern: "^[0-9]+\\.[0-9]{2}$", description }) as const;

const historyChainSchema = {
  type: "object",
  required: ["chainId", "token", "supply", "blockNumber", "issuanceLimit"],
  properties: {
    chainId: { type: "integer" },
    token: { type: "string" },
    supply: kztSchema("stablecoins on this chain in KZT major units, exactly 2 decimals"),
    blockNumber: { type: "string" },
    issuanceLimit: { ...kztSchema("this chain's issuance limit in KZT major units; null without allotments"), type: ["string", "null"] },
  },
} as const;

const historyEntrySchema = {
  type: "object",
  required: ["id", "issuedAt", "collateral", "supply", "currency", "ratio", "ledgerHeight", "blockNumber", "healthy", "alerts", "chains"],
  properties: {
    id: { type: "string" },
    issuedAt: { type: "string", format: "date-time" },
    collateral: { type: "string", pattern: "^[0-9]+\\.[0-9]{2}$", description: 'DT collateral in KZT major units, exactly 2 decimals ("1001500.00"), not tiyn' },
    supply: { type: "string", pattern: "^[0-9]+\\.[0-9]{2}$", description: 'stablecoins in circulation on every chain in KZT major units (1 token = 1 KZT), exactly 2 decimals, not token units' },
    currency: { type: "string", const: "KZT" },
    ratio: { type: ["string", "null"] },
    ledgerHeight: { type: "string" },
    blockNumber: { type: "string", description: "the first chain's block" },
    healthy: { type: "boolean" },
    alerts: { type: "array", items: { type: "string" } },
    chains: { type: "array", items: historyChainSchema },
  },
} as const;

/** The attestation document; served from a cached string, so this schema documents rather than serializes. */
const attestationDocumentSchema = {
  type: "object",
  description: "The latest attestation (see docs/proof-of-collateral.md for every field)",
  required: ["attestation", "gatewaySignature", "verification"],
  properties: {
    attestation: { type: "object", additionalProperties: true },
    gatewaySignature: {
      type: "object",
      properties: { algorithm: { type: "string" }, publicKey: { type: "string" }, signature: { type: "string" }, signs: { type: "string" } },
    },
    verification: { type: "object", additionalProperties: true },
  },
} as const;

/**
 * Public proof of collateral: the latest signed attestation, its history, and the page that shows and
 * verifies it in the visitor's browser. No credentials anywhere here.
 */
export function proofOfCollateralRoutes(options: ProofOfCollateralRouteOptions) {
  // The page takes each chain's public RPC from the document's `verification.rpcUrls`.
  const html = readFileSync(join(pageDirectory, "index.html"), "utf8");
  return async function routes(fastify: FastifyInstance): Promise<void> {
    const app = typedRoutes(fastify);
    app.get(
      "/proof-of-collateral",
      {
        // A public, high-volume read: per-request access lines belong to the proxy; errors are still logged.
        logLevel: "warn",
        config: { access: "public" },
        schema: {
          tags: ["proof of collateral"],
          summary: "The latest proof-of-collateral attestation, signed by the gateway",
          response: { 200: attestationDocumentSchema, 503: errorSchema },
        },
      },
      async (_request, reply) => {
        // The hot path: bytes prepared once per attestation, no serialization per request.
        let bytes = options.attestations.cachedBytes;
        if (bytes === undefined && (await options.attestations.latestJson()) !== undefined) bytes = options.attestations.cachedBytes;
        if (bytes === undefined) throw new CodedError("NO_ATTESTATION_YET", "no attestation has been issued yet; try again in a few seconds");
        return reply.headers(ATTESTATION_HEADERS).send(bytes);
      },
    );

    app.get(
      "/proof-of-collateral/history",
      {
        config: { access: "public" },
        schema: {
          tags: ["proof of collateral"],
          summary: "Past attestations, newest first",
          querystring: {
            type: "object",
            properties: { limit: { type: "integer", minimum: 1, maximum: 500, default: 50 }, before: { type: "string", pattern: "^[0-9]{1,18}$" } },
            additionalProperties: false,
          },
          response: {
            200: pageSchema(historyEntrySchema),
          },
        },
      },
      async (request) => options.attestations.history(request.query.limit, request.query.before),
    );

    for (const path of ["/", "/collateral"]) {
      app.get(
        path,
        { config: { access: "public" }, schema: { tags: ["proof of collateral"], summary: "Public proof-of-collateral page", response: { 200: { type: "string" } } } },
        async (_request, reply) => reply.type("text/html; charset=utf-8").send(html),
      );
    }

    app.get(
      "/collateral/assets/:file",
      {
        config: { access: "public" },
        schema: {
          tags: ["proof of collateral"],
          summary: "Scripts of the public page",
          params: { type: "object", required: ["file"], properties: { file: { type: "string" } } },
          response: { 200: { type: "string" }, 404: errorSchema },
        },
      },
      async (request, reply) => {
        const file = request.params.file;
        const type = PAGE_ASSETS[file];
        if (!type) throw new CodedError("NOT_FOUND", `no page asset ${file}`);
        return reply.type(type).header("cache-control", "no-cache").send(readCached(join(pageDirectory, file)));
      },
    );

    app.get(
      "/collateral/vendor/:package/*",
      {
        config: { access: "public" },
        schema: {
          tags: ["proof of collateral"],
          summary: "ES modules of @noble/curves and @noble/hashes for in-browser verification",
          params: { type: "object", required: ["package", "*"], properties: { package: { type: "string" }, "*": { type: "string" } } },
          response: { 200: { type: "string" }, 404: errorSchema },
        },
      },
      async (request, reply) => {
        const params = request.params;
        const root = VENDORED[params.package];
        const relative = normalize(params["*"]);
        if (!root || !/^[\w./-]+\.js$/.test(relative) || relative.startsWith("..") || relative.includes("/../")) {
          throw new CodedError("NOT_FOUND", "no such module");
        }
        let content: Buffer;
        try {
          content = readCached(join(root, relative));
        } catch {
          throw new CodedError("NOT_FOUND", "no such module");
        }
        return reply.type("text/javascript; charset=utf-8").header("cache-control", "public, max-age=3600").send(content);
      },
    );
  };
}
