import type { FastifyInstance } from "fastify";

/** Something `/readyz` checks: the database, the schema, each configured ledger. Throws when not ready. */
export interface ReadinessCheck {
  name: string;
  check(): Promise<void>;
}

/** A feature of the gateway and whether its settings turned it on, as `/readyz` lists it. */
export interface FeatureStatus {
  name: string;
  on: boolean;
  /** What it runs on, or why it is off. */
  detail: string;
}

const readySchema = {
  type: "object",
  required: ["ready", "checks"],
  properties: {
    ready: { type: "boolean" },
    features: {
      type: "array",
      items: { type: "object", required: ["name", "on"], properties: { name: { type: "string" }, on: { type: "boolean" }, detail: { type: "string" } } },
    },
    checks: {
      type: "array",
      items: {
        type: "object",
        required: ["name", "ok"],
        properties: { name: { type: "string" }, ok: { type: "boolean" }, reason: { type: "string" } },
      },
    },
  },
} as const;

export function installHealth(app: FastifyInstance, checks: () => ReadinessCheck[], features: FeatureStatus[] = []): void {
  app.get(
    "/healthz",
    {
      config: { access: "public" },
      schema: {
        tags: ["operations"],
        summary: "Liveness: the process answers",
        response: { 200: { type: "object", properties: { status: { type: "string" } } } },
      },
    },
    async () => ({ status: "ok" }),
  );
  app.get(
    "/readyz",
    {
      config: { access: "public" },
      schema: {
        tags: ["operations"],
        summary: "Readiness: database reachable, migrations applied, ledgers reachable; which features are on",
        response: { 200: readySchema, 503: readySchema },
      },
    },
    async (_request, reply) => {
      const results = await Promise.all(
        checks().map(async (item) => {
          try {
            await withTimeout(item.check(), 2_000);
            return { name: item.name, ok: true };
          } catch (error) {
            return { name: item.name, ok: false, reason: (error as Error).message };
          }
        }),
      );
      const ready = results.every((result) => result.ok);
      return reply.status(ready ? 200 : 503).send({ ready, features, checks: results });
    },
  );
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
