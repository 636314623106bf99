import type { Iso20022Message } from "../../src/iso20022/message.ts";
import {
  buildPvpCancellationRequest,
  buildPvpInstruction,
  buildPvpNotification,
  buildPvpResolution,
  buildPvpReturn,
  buildPvpStatus,
  buildPvpStatusRequest,
  type PvpOriginal,
} from "../../src/iso20022/pvp/messages.ts";
import { hashLockOf } from "../../src/core/hash-lock.ts";

/**
 * One PvP, message by message (docs/iso20022-pvp-profile.md shows the ones the two gateways exchange,
 * all but the camt.054 to a bank and the pacs.004): the National Bank of Kazakhstan
 * (NBRKKZKX) initiates; leg A pays 1,000,000.00 KZT on the DT ledger, leg B pays 15,000.00 CNY on the
 * People's Bank of China's ledger (PBOCCNBJ). Illustrative BICs and ids only.
 */
export const nbk = "NBRKKZKX";
export const pboc = "PBOCCNBJ";
export const pvpId = "7f3c2a9e41d84b6a9c0e5d1f2a3b4c5d";
export const preimage = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08";
export const hashLock = hashLockOf(`0x${preimage}`).slice(2);
const uetr = "3f2b7c1e-8d4a-4e6f-9a1b-2c3d4e5f6a7b";

const original: PvpOriginal = {
  messageId: "NBK-PVP-000123",
  createdAt: "2026-11-23T10:00:00+05:00",
  instructionId: "NBK-PVP-000123",
  endToEndId: "PVP-7f3c2a9e41d84b6a",
  uetr,
};

export const pvpExample: Array<{ title: string; message: Iso20022Message }> = [
  {
    title: "1. pacs.009: instruct leg B with the hash-lock (NBK -> PBOC)",
    message: buildPvpInstruction({
      messageId: original.messageId,
      createdAt: original.createdAt,
      from: nbk,
      to: pboc,
      pvpId,
      uetr,
      endToEndId: original.endToEndId,
      amount: { currency: "CNY", minorUnits: 1_500_000n },
      settlementDate: "2026-11-23",
      debtor: "BKCHCNBJ",
      creditor: "HSBKKZKX",
      hashLock,
      expiry: "2026-11-23T12:00:00+05:00",
    }),
  },
  {
    title: "2. pacs.002 ACSP: leg B is locked (PBOC -> NBK)",
    message: buildPvpStatus({
      status: "ACSP",
      messageId: "PBOC-STS-000881",
      createdAt: "2026-11-23T13:00:40+08:00",
      from: pboc,
      to: nbk,
      pvpId,
      original,
      hashLock,
      expiry: "2026-11-23T12:00:00+05:00",
    }),
  },
  {
    title: "3. pacs.002 ACSC: leg B is settled, the preimage is revealed (PBOC -> NBK)",
    message: buildPvpStatus({
      status: "ACSC",
      messageId: "PBOC-STS-000882",
      createdAt: "2026-11-23T13:02:10+08:00",
      from: pboc,
      to: nbk,
      pvpId,
      original,
      preimage,
    }),
  },
  {
    title: "4. camt.054: leg A is credited to bank B's digital account (NBK -> bank B's servicer)",
    message: buildPvpNotification({
      messageId: "NBK-NTF-000456",
      createdAt: "2026-11-23T10:02:30+05:00",
      from: nbk,
      to: "BKCHKZKA",
      pvpId,
      notificationId: "NBK-NTF-000456-1",
      account: { otherId: "DA-KZ-BKCH-000017" },
      amount: { currency: "KZT", minorUnits: 100_000_000n },
      creditDebit: "CRDT",
      bookingDate: "2026-11-23",
      original,
    }),
  },
  {
    title: "5. pacs.002 RJCT: the foreign side did not lock in time (PBOC -> NBK)",
    message: buildPvpStatus({
      status: "RJCT",
      messageId: "PBOC-STS-000883",
      createdAt: "2026-11-23T14:00:00+08:00",
      from: pboc,
      to: nbk,
      pvpId,
      original,
      reason: "AB03",
    }),
  },
  {
    title: "6. camt.056: cancel the instruction (NBK -> PBOC)",
    message: buildPvpCancellationRequest({
      messageId: "NBK-CXL-000077",
      createdAt: "2026-11-23T11:30:00+05:00",
      from: nbk,
      to: pboc,
      pvpId,
      caseId: "NBK-CASE-000077",
      original,
      originalAmount: { currency: "CNY", minorUnits: 1_500_000n },
      originalSettlementDate: "2026-11-23",
      reason: "CUST",
    }),
  },
  {
    title: "7. camt.029: the cancellation is accepted, the hold released (PBOC -> NBK)",
    message: buildPvpResolution({
      messageId: "PBOC-RSL-000031",
      createdAt: "2026-11-23T14:31:00+08:00",
      from: pboc,
      to: nbk,
      pvpId,
      caseId: "NBK-CASE-000077",
      outcome: "CNCL",
      original,
    }),
  },
  {
    title: "8. pacs.004: a settled leg B is returned after the cancellation (PBOC -> NBK)",
    message: buildPvpReturn({
      messageId: "PBOC-RTN-000012",
      createdAt: "2026-11-23T14:40:00+08:00",
      from: pboc,
      to: nbk,
      pvpId,
      returnId: "PBOC-RTN-000012-1",
      original,
      originalAmount: { currency: "CNY", minorUnits: 1_500_000n },
      returnedAmount: { currency: "CNY", minorUnits: 1_500_000n },
      settlementDate: "2026-11-23",
      reason: "FOCR",
    }),
  },
  {
    title: "9. pacs.028: no word from the peer within the setting; what is the status of this PvP? (NBK -> PBOC)",
    message: buildPvpStatusRequest({
      messageId: "7f3c2a9e41d84b6a9c0e5d1f2a3b4c5d001",
      createdAt: "2026-11-23T10:01:00+05:00",
      from: nbk,
      to: pboc,
      original,
    }),
  },
];
