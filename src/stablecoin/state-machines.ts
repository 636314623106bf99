import type { Queryable } from "../persistence/database.ts";
import { mintTransitions, moveTransitions, redemptionTransitions, type MintPatch, type MintTransition, type MovePatch, type MoveTransition, type RedemptionPatch, type RedemptionTransition } from "./model.ts";
import { moveMintRow } from "./store/mints.ts";
import { moveMoveRow } from "./store/moves.ts";
import { moveRedemptionRow } from "./store/redemptions.ts";

export { MINT_STATES, mintTransitions, MOVE_STATES, moveTransitions, REDEMPTION_STATES, redemptionTransitions, type MintState, type MoveState, type RedemptionState } from "./model.ts";

/**
 * Moves one mint request along `mintTransitions[name]` (model.ts), setting `patch` too, if and only if it is in
 * an allowed state, inside the caller's transaction. Returns false when it is not (another worker got there first).
 */
export function moveMint(tx: Queryable, id: string, name: MintTransition, patch: MintPatch = {}): Promise<boolean> {
  const transition = mintTransitions[name];
  return moveMintRow(tx, id, patch, transition.from, transition.to);
}

/** Moves one redemption along `redemptionTransitions[name]`, as `moveMint` does. */
export function moveRedemption(tx: Queryable, id: string, name: RedemptionTransition, patch: RedemptionPatch = {}): Promise<boolean> {
  const transition = redemptionTransitions[name];
  return moveRedemptionRow(tx, id, patch, transition.from, transition.to);
}

/** Moves one move between chains along `moveTransitions[name]`, as `moveMint` does. */
export function moveMove(tx: Queryable, id: string, name: MoveTransition, patch: MovePatch = {}): Promise<boolean> {
  const transition = moveTransitions[name];
  return moveMoveRow(tx, id, patch, transition.from, transition.to);
}
