import { chmodSync, lstatSync, mkdirSync, readdirSync } from "node:fs";
import { join } from "node:path";

/** Files under DATA_DIR hold keys, API key hashes and PvP state: nobody but the owner may read them. */
export const PRIVATE_UMASK = 0o077;

/**
 * Makes `path` and everything under it owner-only: directories 0700, files 0600. Needed beyond the umask
 * because PGlite unpacks its initial database files with mode 0666 of its own, whatever the umask.
 * Symbolic links are left alone (their targets are not ours to change).
 */
export function restrictToOwner(path: string): void {
  const stat = lstatSync(path, { throwIfNoEntry: false });
  if (!stat || stat.isSymbolicLink()) return;
  if (stat.isDirectory()) {
    if ((stat.mode & 0o777) !== 0o700) chmodSync(path, 0o700);
    for (const entry of readdirSync(path)) restrictToOwner(join(path, entry));
  } else if ((stat.mode & 0o777) !== 0o600) {
    chmodSync(path, 0o600);
  }
}

/** Creates a data directory owner-only, or makes an existing one so, with all it holds. */
export function ensurePrivateDirectory(path: string): void {
  mkdirSync(path, { recursive: true, mode: 0o700 });
  restrictToOwner(path);
}
