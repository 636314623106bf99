#!/usr/bin/env node
// The CLI runs the TypeScript sources directly (Node >= 22.13 strips types natively).
const [major, minor] = process.versions.node.split(".").map(Number);
if (major < 22 || (major === 22 && minor < 13)) {
  console.error(
    `tenge-gateway needs Node >= 22.13 (found ${process.versions.node}); run it with: npx -y -p node@24 -c 'tenge-gateway ...'`,
  );
  process.exit(2);
}
const { main } = await import("../src/cli/main.ts");
process.exitCode = await main(process.argv.slice(2));
