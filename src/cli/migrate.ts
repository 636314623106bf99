import type { CommandModule } from "./command.ts";

export const help = `Usage: tenge-gateway start

Runs the gateway until SIGTERM or SIGINT.`;

export async function run(): Promise<number> {
  return 0;
}

export default { help, run } satisfies CommandModule;
