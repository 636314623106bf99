import { iso, listing } from "../correspondents/terms-cli.ts";
import { quoteStore } from "./quotes.ts";

/** `tenge-gateway correspondents quotes`: the signed quotes PvPs consumed, each once (the PvP owns the table). */
export const listQuotes = listing(
  `Usage: npx tenge-gateway correspondents quotes [--gateway URL]\n\nPrints the signed quotes PvPs consumed (each once), newest first (the latest 100), with the signed bytes, signature and key id.\nOn the database of DATABASE_URL, or with --gateway URL through the operator API (TENGE_API_KEY).`,
  "/operator/pvp-quotes",
  async (db) => (await quoteStore.list(db)).map((quote) => iso({ ...quote }, "consumedAt")),
);
