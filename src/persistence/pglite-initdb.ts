/**
 * Run by `openPglite` as a short-lived child process: initialises a PGlite data directory (initdb) and exits.
 * initdb leaves about 100 MB of freed memory behind in the process that ran it (a second PGlite instance,
 * initdb's WebAssembly memory, the new cluster dumped and loaded as a tar); the C allocator keeps most of it
 * resident for the rest of the process's life. Ending with this child, it is given back at once.
 *
 *   node src/persistence/pglite-initdb.ts <dataDir>
 */
import { PGlite } from "@electric-sql/pglite";

const dataDir = process.argv[2];
if (!dataDir) {
  console.error("usage: pglite-initdb.ts <dataDir>");
  process.exit(2);
}
const pglite = await PGlite.create({ dataDir });
await pglite.close();
