import type { CommandModule } from "../cli/command.ts";

const todo: CommandModule = { help: "", run: async () => 0 };
export const create = todo;
export const list = todo;
export const revoke = todo;
