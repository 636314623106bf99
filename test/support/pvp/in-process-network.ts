import type { PeerTransport } from "../../../src/pvp/leg-port.ts";
import { LegError } from "../../../src/pvp/leg-port.ts";

/** A small seeded PRNG (mulberry32): the same seed gives the same faults. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export interface NetworkFaults {
  /** Lost before delivery: the sender gets no acknowledgement and retries. */
  drop: number;
  /** Delivered, but the acknowledgement is lost: the sender retries and the receiver sees a duplicate. */
  lostAck: number;
  /** Delivered twice. */
  duplicate: number;
  /** Held back for up to `maxDelayMs` (acknowledged at once), so later messages may overtake it. */
  delay: number;
  maxDelayMs: number;
  /** Acknowledged, then lost for good (the receiving side dropped it after saying it had it). */
  vanish?: number;
}

export const noFaults: NetworkFaults = { drop: 0, lostAck: 0, duplicate: 0, delay: 0, maxDelayMs: 0 };

type Receiver = (xml: string, from: string) => Promise<unknown>;

/**
 * Gateways wired to each other in one process, with seeded message faults: drop, lost acknowledgement,
 * duplicate, delay and reordering. Delayed messages are delivered by `pump()` once their time comes.
 */
export class InProcessNetwork {
  faults: NetworkFaults;
  /** Agents whose gateway is down: sends to them fail. */
  readonly down = new Set<string>();
  readonly stats = { sent: 0, delivered: 0, dropped: 0, duplicated: 0, delayed: 0, lostAcks: 0, refused: 0, vanished: 0 };
  private readonly receivers = new Map<string, Receiver>();
  private readonly pending: Array<{ at: number; to: string; from: string; xml: string }> = [];
  private readonly random: () => number;
  private readonly clock: () => number;

  constructor(options: { seed: number; clock: () => number; faults?: NetworkFaults }) {
    this.random = seededRandom(options.seed);
    this.clock = options.clock;
    this.faults = options.faults ?? noFaults;
  }

  attach(agent: string, receiver: Receiver): void {
    this.receivers.set(agent, receiver);
  }

  /** The transport one gateway (`from`) uses. */
  transportFor(from: string): PeerTransport {
    return {
      send: async (to, message) => {
        this.stats.sent++;
        if (this.down.has(to)) throw new LegError("UNAVAILABLE", `${to} is down`);
        const f = this.faults;
        // Drawn only when asked for, so runs without it keep their seeded sequence.
        if (f.vanish && this.random() < f.vanish) {
          this.stats.vanished++;
          return;
        }
        const roll = this.random();
        if (roll < f.drop) {
          this.stats.dropped++;
          throw new LegError("UNAVAILABLE", "no acknowledgement (message lost)");
        }
        if (roll < f.drop + f.delay) {
          this.stats.delayed++;
          this.pending.push({ at: this.clock() + Math.floor(this.random() * f.maxDelayMs), to, from, xml: message.xml });
          return;
        }
        await this.deliver(to, from, message.xml);
        if (roll < f.drop + f.delay + f.duplicate) {
          this.stats.duplicated++;
          this.pending.push({ at: this.clock() + Math.floor(this.random() * Math.max(1, f.maxDelayMs)), to, from, xml: message.xml });
        }
        if (roll > 1 - f.lostAck) {
          this.stats.lostAcks++;
          throw new LegError("UNAVAILABLE", "acknowledgement lost");
        }
      },
    };
  }

  private async deliver(to: string, from: string, xml: string): Promise<void> {
    const receiver = this.receivers.get(to);
    if (!receiver) throw new LegError("UNAVAILABLE", `no gateway ${to}`);
    try {
      await receiver(xml, from);
      this.stats.delivered++;
    } catch (error) {
      this.stats.refused++;
      throw error;
    }
  }

  /** Delivers every held-back message whose time has come, in a seeded shuffled order. */
  async pump(): Promise<number> {
    const now = this.clock();
    const due = this.pending.filter((item) => item.at <= now);
    if (due.length === 0) return 0;
    for (const item of due) this.pending.splice(this.pending.indexOf(item), 1);
    for (let index = due.length - 1; index > 0; index--) {
      const other = Math.floor(this.random() * (index + 1));
      [due[index], due[other]] = [due[other]!, due[index]!];
    }
    for (const item of due) {
      if (this.down.has(item.to)) {
        this.pending.push({ ...item, at: now + 1000 });
        continue;
      }
      await this.deliver(item.to, item.from, item.xml).catch(() => undefined);
    }
    return due.length;
  }

  get inFlight(): number {
    return this.pending.length;
  }
}
