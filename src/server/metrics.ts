import type { FastifyInstance } from "fastify";
import { collectDefaultMetrics, Histogram, Registry } from "prom-client";

/** One Prometheus registry per gateway process; features add their own metrics to it. */
export function createMetricsRegistry(): Registry {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: "tenge_gateway_process_" });
  return registry;
}

export function installMetrics(app: FastifyInstance, registry: Registry): void {
  const duration = new Histogram({
    name: "tenge_gateway_http_request_duration_seconds",
    help: "HTTP request duration by route and status",
    labelNames: ["method", "route", "status"],
    buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
    registers: [registry],
  });
  app.addHook("onResponse", async (request, reply) => {
    duration.observe(
      { method: request.method, route: request.routeOptions.url ?? "unmatched", status: String(reply.statusCode) },
      reply.elapsedTime / 1000,
    );
  });
  app.get(
    "/metrics",
    {
      config: { access: "public" },
      schema: { tags: ["operations"], summary: "Prometheus metrics", response: { 200: { type: "string" } } },
    },
    async (_request, reply) => reply.type(registry.contentType).send(await registry.metrics()),
  );
}
