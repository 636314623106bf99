import { createHash } from "node:crypto";
import { ledgerKindOf } from "../core/ledger-name.ts";
import { InjectedCrash, loadOpened, type EngineContext } from "./engine-context.ts";
import { LegError, type LegRefundConsent, type LegSide } from "./leg-port.ts";
import type { KnownLegs } from "./observe.ts";
import { legOf, type PvpRecord } from "./pvp.ts";
import { cancellationReasonOf, lockRefusalReason } from "./reason-codes.ts";
import { pvpStore, type OutboxCommand, type PvpPatch } from "./store.ts";

/**
 * Executes a PvP's due outbox commands (ledger calls and messages to the correspondent); returns when the
 * next pending one is due, if any, and whether any ran. A command that succeeds is marked done with what
 * the ledger answered; a permanent refusal ends it; anything else is retried with backoff.
 */
export async function runDueCommands(context: EngineContext, pvp: PvpRecord, known: KnownLegs): Promise<{ nextDue: Date | undefined; ran: boolean }> {
  let nextDue: number | undefined;
  let ran = false;
  const commands = await pvpStore.pendingCommands(context.db, pvp.id);
  let current = pvp;
  for (const command of commands) {
    const now = context.clock.now();
    if (command.nextAttemptAt.getTime() > now.getTime()) {
      nextDue = Math.min(nextDue ?? Infinity, command.nextAttemptAt.getTime());
      continue;
    }
    if (ran) current = (await loadOpened(context, pvp.id)) ?? current;
    const retryAt = await execute(context, current, command, known);
    ran = true;
    if (retryAt !== undefined) nextDue = Math.min(nextDue ?? Infinity, retryAt.getTime());
  }
  return { nextDue: nextDue === undefined ? undefined : new Date(nextDue), ran };
}

function backoff(context: EngineContext, command: OutboxCommand): Date {
  const { retryBaseMs: base, retryMaxMs: max } = context.timing;
  const exponential = Math.min(max, base * 2 ** Math.min(command.attempts, 16));
  // Deterministic jitter (from the key and attempt) keeps seeded fault runs repeatable.
  const jitter = createHash("sha256").update(`${command.idempotencyKey}:${command.attempts}`).digest().readUInt16BE(0) / 65535;
  return new Date(context.clock.now().getTime() + Math.round(exponential * (0.5 + jitter / 2)));
}

const sideOf = (command: OutboxCommand): LegSide | undefined => (command.command === "send" ? undefined : command.side);

/** `lock:dt`, `send`: how the timeline and errors name a command. */
function labelOf(command: OutboxCommand, separator: string): string {
  const side = sideOf(command);
  return side === undefined ? command.command : `${command.command}${separator}${side}`;
}

function referencePatch(side: LegSide, reference: string): PvpPatch {
  return side === "dt" ? { dtReference: reference } : { foreignReference: reference };
}

function lockRefusedPatch(side: LegSide, reasonCode: string): PvpPatch {
  return side === "dt" ? { dtLockRefused: true, reasonCode } : { foreignLockRefused: true, reasonCode };
}

/** Runs one command; returns a retry time when it must run again. */
async function execute(context: EngineContext, pvp: PvpRecord, command: OutboxCommand, known: KnownLegs): Promise<Date | undefined> {
  const { faults, db } = context;
  const side = sideOf(command);
  try {
    faults?.at("before-command", pvp.id);
    const detail = await perform(context, pvp, command);
    faults?.at("after-command", pvp.id);
    const now = context.clock.now();
    await pvpStore.completeCommand(db, { id: command.id, pvpId: pvp.id }, detail.reference !== undefined && side !== undefined ? referencePatch(side, detail.reference) : {}, {
      at: now,
      kind: "command",
      fromState: null,
      toState: null,
      event: labelOf(command, ":"),
      detail: {
        idempotencyKey: command.idempotencyKey,
        ...(detail.reference ? { reference: detail.reference } : {}),
        ...(command.command === "send" ? { businessMessageId: command.message.businessMessageId } : {}),
      },
    });
    // A lock or claim the ledger accepted is what the ledger now shows (not so for peers, whose
    // acknowledgement only means the message arrived, nor for refunds, which succeed on settled legs).
    const ledger = side === undefined ? undefined : side === "dt" ? pvp.dtLeg?.ledger : pvp.foreignLeg.ledger;
    if (side !== undefined && ledger !== undefined && ledgerKindOf(ledger).kind !== "peer") {
      if (command.command === "lock") known[side] = { status: "locked" };
      if (command.command === "claim") known[side] = { status: "claimed" };
    }
    return undefined;
  } catch (error) {
    if (error instanceof InjectedCrash) throw error;
    const now = context.clock.now();
    const message = error instanceof Error ? error.message : String(error);
    if (error instanceof LegError && error.code === "NOT_YET_EXPIRED" && command.command === "refund") {
      const terms = command.side === "dt" ? pvp.dtLeg : pvp.foreignLeg;
      const at = new Date(Math.max(backoff(context, command).getTime(), Math.min(terms?.expiresAt.getTime() ?? 0, now.getTime() + context.timing.retryMaxMs)));
      await pvpStore.retryCommand(db, command.id, at, error.code);
      return at;
    }
    if (error instanceof LegError && error.permanent) {
      await db.transaction(async (tx) => {
        await pvpStore.finishCommand(tx, command.id, "failed", now, error.code);
        await pvpStore.recordError(tx, pvp.id, now, `${labelOf(command, " ")} refused: ${error.code}: ${message}`);
        if (command.command === "lock") await pvpStore.update(tx, pvp.id, lockRefusedPatch(command.side, lockRefusalReason(error.code)), now);
        await pvpStore.addTimeline(tx, pvp.id, { at: now, kind: "command", fromState: null, toState: null, event: `${labelOf(command, ":")}:refused`, detail: { code: error.code } });
      });
      return undefined;
    }
    const at = backoff(context, command);
    const code = (error as { code?: string }).code ?? "ERROR";
    context.log.warn({ event: "pvp.command_retry", pvpId: pvp.id, command: command.command, side, code: (error as { code?: string }).code, err: message }, "command will be retried");
    await pvpStore.retryCommand(db, command.id, at, `${code}: ${message}`.slice(0, 300));
    await pvpStore.recordError(db, pvp.id, context.clock.now(), `${labelOf(command, " ")} will be retried: ${code}: ${message}`);
    return at;
  }
}

async function perform(context: EngineContext, pvp: PvpRecord, command: OutboxCommand): Promise<{ reference?: string }> {
  if (command.command === "send") {
    if (!context.transport) throw new LegError("UNAVAILABLE", "no transport to correspondents is configured");
    const { to, ...message } = command.message;
    await context.transport.send(to, message);
    return {};
  }
  const side = command.side;
  const leg = legOf(pvp, side);
  const port = context.legs.leg(leg.terms.ledger);
  const issued = side === "dt" ? pvp.dtLockIssued : pvp.foreignLockIssued;
  switch (command.command) {
    case "lock": {
      // Written before the ledger call: after a crash the engine knows a lock may exist.
      if (!issued) await pvpStore.update(context.db, pvp.id, side === "dt" ? { dtLockIssued: true } : { foreignLockIssued: true }, context.clock.now());
      const receipt = await port.lock(leg);
      return { reference: receipt.reference };
    }
    case "claim": {
      if (pvp.preimage === undefined) throw new LegError("UNAVAILABLE", "the preimage is not known yet");
      await port.claim({ ...leg, issuedAt: command.createdAt }, pvp.preimage);
      return {};
    }
    case "refund": {
      if (!issued) return {};
      let reference = leg.reference ?? port.referenceOf?.(leg);
      // A lock may have reached the ledger before a crash without its reference being recorded: the
      // idempotent lock call returns it (or locks now, which the refund then undoes).
      if (reference === undefined) reference = (await port.lock(leg)).reference;
      const consent = command.early ? await agreedCancellation(context, pvp, side) : undefined;
      await port.refund({ ...leg, reference, issuedAt: command.createdAt }, { early: command.early, consent, reason: cancellationReasonOf(pvp) });
      return { reference };
    }
  }
}

/**
 * The correspondent's consent to refunding our leg on `side` before its expiry, when the PvP is an agreed
 * cancellation (docs/pvp.md "Agreed cancellation"): as initiator, our DT hold after the bank cancelled
 * before any reveal (no claim of the foreign leg was ever written) and the peer answered our camt.056 with
 * camt.029 CNCL; as responder, our own leg after the initiator, who alone knows the preimage, sent camt.056
 * (and while it has not revealed it to us).
 */
async function agreedCancellation(context: EngineContext, pvp: PvpRecord, side: LegSide): Promise<LegRefundConsent | undefined> {
  if (!pvp.cancelRequested || pvp.peerCancellation === undefined) return undefined;
  if (pvp.role === "initiator") {
    if (side !== "dt" || ledgerKindOf(pvp.foreignLeg.ledger).kind !== "peer" || pvp.peerStatus === "claimed") return undefined;
    if (await pvpStore.claimWritten(context.db, pvp.id, "foreign")) return undefined;
  } else if (side !== "foreign" || pvp.sealedPreimage !== undefined) {
    // A preimage that reached us wins while our leg is locked (the claim is queued): no early refund then.
    return undefined;
  }
  return { by: pvp.counterpartyAgent, message: pvp.peerCancellation };
}
