import type { KeyObject } from "node:crypto";
import { signRequest } from "../../identity/http-signature.ts";
import { LegError, type PeerTransport } from "../leg-port.ts";

/** One correspondent central bank in the directory: its BIC, its gateway's URL, its principal here. */
export interface Correspondent {
  agent: string;
  url: string;
  /** The identity principal (role correspondent) whose registered Ed25519 keys sign its requests to us. */
  principalId: string;
  /** The validation profile of its messages (`cbpr+` when unset). */
  profile?: string;
}

/** The directory of correspondents as the PvP component reads it, at use time (keys rotate, peers come and go). */
export interface CorrespondentLookup {
  /** Fresh from the directory, for sending. */
  lookup(agent: string): Promise<Correspondent | undefined>;
  /** From a copy kept at most a few seconds old, where no wait is possible. */
  byAgent(agent: string): Correspondent | undefined;
  byPrincipal(principalId: string): Correspondent | undefined;
  /** Reads the directory again now (a correspondent added a moment ago is found at once). */
  refresh?(): Promise<void>;
}

/** A fixed list of correspondents as a lookup (tests, benchmarks). */
export function fixedCorrespondents(correspondents: readonly Correspondent[]): CorrespondentLookup {
  const byAgent = new Map(correspondents.map((correspondent) => [correspondent.agent, correspondent]));
  const byPrincipal = new Map(correspondents.map((correspondent) => [correspondent.principalId, correspondent]));
  return {
    lookup: async (agent) => byAgent.get(agent),
    byAgent: (agent) => byAgent.get(agent),
    byPrincipal: (principalId) => byPrincipal.get(principalId),
  };
}

export interface HttpPeerTransportOptions {
  correspondents: readonly Correspondent[] | CorrespondentLookup;
  /** Our key id as registered at the correspondents, and its private key (never logged). */
  keyId: string;
  privateKey: KeyObject;
  timeoutMs?: number;
  /** Told of every delivery attempt (for the peer metrics). */
  onDelivery?: (agent: string, outcome: "delivered" | "failed") => void;
}

export const INBOUND_PATH = "/iso20022/inbound";

/**
 * Sends ISO 20022 messages to correspondents' gateways over HTTP(S): `POST /iso20022/inbound` with the
 * exact XML bytes, signed per RFC 9421 (Ed25519 over method, authority, path, query and the body's
 * Content-Digest, so the message cannot be replayed to another gateway that knows our key).
 * A 2xx answer is the acknowledgement; 400/422 (the message is wrong) is final; anything else is retried
 * by the outbox with backoff.
 */
export function httpPeerTransport(options: HttpPeerTransportOptions): PeerTransport {
  const directory = "lookup" in options.correspondents ? options.correspondents : fixedCorrespondents(options.correspondents);
  const report = options.onDelivery ?? (() => {});
  return {
    async send(to, message) {
      const correspondent = await directory.lookup(to);
      if (!correspondent) throw new LegError("REJECTED", `no correspondent ${to} in the directory`, { permanent: true });
      const body = Buffer.from(message.xml, "utf8");
      const url = new URL(INBOUND_PATH, correspondent.url);
      const headers = signRequest({ method: "POST", url, body }, { keyId: options.keyId, privateKey: options.privateKey });
      let response: Response;
      try {
        response = await fetch(url, {
          method: "POST",
          headers: { ...headers, "content-type": "application/xml" },
          body,
          signal: AbortSignal.timeout(options.timeoutMs ?? 10_000),
        });
      } catch (error) {
        report(to, "failed");
        throw new LegError("UNAVAILABLE", `${to} unreachable: ${error instanceof Error ? error.message : String(error)}`);
      }
      if (response.ok) {
        await response.body?.cancel();
        report(to, "delivered");
        return;
      }
      report(to, "failed");
      const answer = (await response.json().catch(() => ({}))) as { code?: string; message?: string };
      const text = `${to} answered ${response.status} ${answer.code ?? ""}: ${answer.message ?? ""}`.slice(0, 300);
      if (response.status === 400 || response.status === 422) throw new LegError("REJECTED", text, { permanent: true });
      throw new LegError("UNAVAILABLE", text);
    },
  };
}
