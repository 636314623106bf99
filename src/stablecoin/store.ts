/**
 * The stablecoin's SQL, one module per table group; every function takes the transaction it runs in (or the
 * database) and returns model types (model.ts). The flows decide what happens; the stores only read and
 * write rows.
 */
export * from "./store/allotment-relays.ts";
export * from "./store/cursors.ts";
export * from "./store/deposits.ts";
export * from "./store/exchanges.ts";
export * from "./store/mints.ts";
export * from "./store/moves.ts";
export * from "./store/redemptions.ts";
export type { ListFilter, Page } from "./store/paging.ts";
export { DEPOSIT_STATUSES, type Deposit, type DepositStatus, type RedemptionAction } from "./model.ts";
