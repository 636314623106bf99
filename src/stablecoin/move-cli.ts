import { userInfo } from "node:os";
import { parseArgs } from "node:util";
import { UsageError, type CommandModule } from "../core/cli-command.ts";
import { withService } from "./cli.ts";
import { MOVE_STATES } from "./model.ts";
import { moveActionJson, moveJson } from "./move-json.ts";

const SETTINGS = "Settings: DATABASE_URL (unset: the embedded PGlite under DATA_DIR), also from TENGE_CONFIG_FILE (the gateway's settings file).";

export const list: CommandModule = {
  help: `Usage: npx tenge-gateway stablecoin moves list [--state STATE] [--limit N] [--before CURSOR]

Prints one JSON line per move between chains, newest first (amounts in KZT), then {"next":CURSOR} when
more follow. STATE is one of ${MOVE_STATES.join(", ")}.
${SETTINGS}`,
  async run(args, io) {
    const { values } = parseArgs({ args, options: { state: { type: "string" }, limit: { type: "string" }, before: { type: "string" } }, strict: true });
    if (values.state && !(MOVE_STATES as readonly string[]).includes(values.state)) throw new UsageError(`--state must be one of ${MOVE_STATES.join(", ")}`);
    const limit = values.limit === undefined ? 50 : Number(values.limit);
    if (!Number.isInteger(limit) || limit < 1 || limit > 500) throw new UsageError("--limit must be an integer from 1 to 500");
    return withService(io, async (service) => {
      const page = await service.listMoves({ kind: "operator", principalId: `cli:${userInfo().username}` }, { limit, ...(values.state ? { state: values.state } : {}), ...(values.before ? { before: values.before } : {}) });
      for (const move of page.items) io.out(JSON.stringify(moveJson(move)));
      if (page.next) io.out(JSON.stringify({ next: page.next }));
      return 0;
    });
  },
};

export const show: CommandModule = {
  help: `Usage: npx tenge-gateway stablecoin moves show ID

Prints one move as JSON with the operators' actions on it. ID is sourceChainId:txHash:logIndex.
${SETTINGS}`,
  async run(args, io) {
    const { positionals } = parseArgs({ args, options: {}, allowPositionals: true, strict: true });
    if (positionals.length !== 1) throw new UsageError("give exactly one move id");
    return withService(io, async (service) => {
      const { move, actions } = await service.getMove({ kind: "operator", principalId: `cli:${userInfo().username}` }, positionals[0]!);
      io.out(JSON.stringify({ move: moveJson(move), actions: actions.map(moveActionJson) }));
      return 0;
    });
  },
};

export const refund: CommandModule = {
  help: `Usage: npx tenge-gateway stablecoin moves refund ID --reason TEXT

Has a move minted back to its holder on the source chain instead of on its destination: only a move past
the source chain's confirmations that the DT ledger has not yet allotted (state confirmed, allotting or
failed before its allotment). The DT ledger allots it under the move's one reference (move:<id>), so a move
is never both moved and refunded. Recorded with "cli:<os user>" as who; the running gateway mints it.
A move that cannot be refunded is left alone (exit 2).
${SETTINGS}`,
  async run(args, io) {
    const { values, positionals } = parseArgs({ args, options: { reason: { type: "string" } }, allowPositionals: true, strict: true });
    if (positionals.length !== 1) throw new UsageError("give exactly one move id");
    if (!values.reason || values.reason.length > 500) throw new UsageError("--reason must be 1 to 500 characters");
    return withService(io, async (service) => {
      const move = await service.refundMove(positionals[0]!, `cli:${userInfo().username}`, values.reason!);
      io.out(JSON.stringify(moveJson(move)));
      return 0;
    });
  },
};
