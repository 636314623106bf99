/**
 * The load balancer an operator puts in front of the NBK's gateway processes (docs/deploy.md): a TCP
 * proxy that hands each connection to the next upstream and skips one that refuses connections, so a
 * crashed process is routed around, as haproxy or nginx would do.
 */
import { connect, createServer, type Server, type Socket } from "node:net";

export interface LoadBalancer {
  url: string;
  /** Replaces the upstream ports (after a restart on other ports, say). */
  setUpstreams(ports: number[]): void;
  close(): Promise<void>;
}

export async function startLoadBalancer(upstreams: number[]): Promise<LoadBalancer> {
  let ports = [...upstreams];
  let next = 0;
  const sockets = new Set<Socket>();
  const track = (socket: Socket) => {
    sockets.add(socket);
    socket.once("close", () => sockets.delete(socket));
  };
  const server: Server = createServer((client) => {
    track(client);
    client.pause();
    const attempt = (tries: number) => {
      if (tries >= ports.length) return client.destroy();
      const port = ports[next++ % ports.length]!;
      const upstream = connect({ host: "127.0.0.1", port });
      upstream.once("error", () => attempt(tries + 1));
      upstream.once("connect", () => {
        track(upstream);
        upstream.removeAllListeners("error");
        upstream.on("error", () => client.destroy());
        client.on("error", () => upstream.destroy());
        client.pipe(upstream);
        upstream.pipe(client);
        client.resume();
      });
    };
    attempt(0);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  if (typeof address !== "object" || !address) throw new Error("the load balancer has no address");
  return {
    url: `http://127.0.0.1:${address.port}`,
    setUpstreams(replacement) {
      ports = [...replacement];
    },
    close() {
      for (const socket of sockets) socket.destroy();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}
