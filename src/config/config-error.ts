import { CodedError } from "../core/errors.ts";

/** A configuration problem: names the variable and says what is wrong, never the secret value. */
export class ConfigError extends CodedError<"CONFIG_INVALID"> {
  readonly variable: string;
  constructor(variable: string, problem: string) {
    super("CONFIG_INVALID", `${variable} ${problem}`);
    this.variable = variable;
  }
}
