import type { Queryable } from "../../persistence/database.ts";

/**
 * Moves one row of `table` to `to`, setting the patch's fields through `columns` (model field -> column, so no
 * caller names a column), if and only if it is in one of `from`. False when it is not (another worker got
 * there first).
 */
export async function moveRow<Patch extends object>(
  tx: Queryable,
  target: { table: string; id: string; patch: Patch; columns: { readonly [K in keyof Required<Patch>]: string } },
  from: readonly string[],
  to: string,
): Promise<boolean> {
  const fields = (Object.keys(target.patch) as Array<keyof Patch>).filter((field) => target.patch[field] !== undefined);
  const assignments = fields.map((field, index) => `, ${target.columns[field]} = $${index + 4}`).join("");
  const result = await tx.query(
    `UPDATE ${target.table} SET state = $2, version = version + 1, updated_at = now()${assignments} WHERE id = $1 AND state = ANY($3::text[])`,
    [target.id, to, from, ...fields.map((field) => target.patch[field])],
  );
  return result.rowCount === 1;
}
