import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import { hookList } from "../identity/access-plugin.ts";
import { collectDefaultMetrics, Histogram, Registry } from "prom-client";

/** One Prometheus registry per gateway process; features add their own metrics to it. */
export function createMetricsRegistry(): Registry {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: "tenge_gateway_process_" });
  return registry;
}

const STATUS_TEXT = new Map<number, string>();
const statusText = (status: number) => {
  let text = STATUS_TEXT.get(status);
  if (text === undefined) STATUS_TEXT.set(status, (text = String(status)));
  return text;
};

/** The request-duration histogram: installed before the routes it measures are registered. */
export function installRequestMetrics(app: FastifyInstance, registry: Registry): void {
  const duration = new Histogram({
    name: "tenge_gateway_http_request_duration_seconds",
    help: "HTTP request duration by route and status",
    labelNames: ["method", "route", "status"],
    buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
    registers: [registry],
  });
  // Each route observes with its labels fixed when it is registered: a plain callback, no promise, no
  // per-request route lookup. Requests that match no route are observed as "unmatched".
  const observer = (method: string, route: string) => (_request: FastifyRequest, reply: FastifyReply, done: () => void) => {
    duration.observe({ method, route, status: statusText(reply.statusCode) }, reply.elapsedTime / 1000);
    done();
  };
  app.addHook("onRoute", (route) => {
    const method = Array.isArray(route.method) ? route.method.join(",") : route.method;
    route.onResponse = [...hookList(route.onResponse), observer(method, route.url)];
  });
  const unmatched = new Map<string, ReturnType<typeof observer>>();
  app.addHook("onResponse", (request, reply, done) => {
    if (!request.is404) return done();
    let observe = unmatched.get(request.method);
    if (!observe) unmatched.set(request.method, (observe = observer(request.method, "unmatched")));
    observe(request, reply, done);
  });
}

/** `GET /metrics`, the registry in Prometheus' text format (after the OpenAPI plugin, so it is documented). */
export function installMetricsRoute(app: FastifyInstance, registry: Registry): void {
  app.get(
    "/metrics",
    {
      config: { access: "public" },
      schema: { tags: ["operations"], summary: "Prometheus metrics", response: { 200: { type: "string" } } },
    },
    async (_request, reply) => reply.type(registry.contentType).send(await registry.metrics()),
  );
}
