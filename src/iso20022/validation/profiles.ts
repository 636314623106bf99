import { CodedError } from "../../core/errors.ts";

/**
 * Which rules a message is held to:
 * - `cbpr+` (default): safe XML, the XSDs and the CBPR+ usage rules; a message whose AppHdr declares an
 *   HVPS+ business service (BizSvc `swift.iap.*` or `swift.hvps.*`) is held to the HVPS+ rules instead.
 * - `hvps+`: the same usage rules with the HVPS+ differences (settlement through the RTGS system, CLRG).
 * - `iso`: safe XML and the official XSDs only, for Fedwire, other market practices and plain ISO 20022.
 */
export const validationProfiles = ["cbpr+", "hvps+", "iso"] as const;

export type ValidationProfile = (typeof validationProfiles)[number];

export const defaultValidationProfile: ValidationProfile = "cbpr+";

export function isValidationProfile(name: unknown): name is ValidationProfile {
  return typeof name === "string" && (validationProfiles as readonly string[]).includes(name);
}

/** A profile name that is not one of {@link validationProfiles}. */
export class UnknownProfileError extends CodedError<"ISO20022_PROFILE_UNKNOWN"> {
  constructor(profile: string) {
    super("ISO20022_PROFILE_UNKNOWN", `profile ${profile} is not one of ${validationProfiles.join(", ")}`);
  }
}

/** Other spellings a stored setting may hold for a profile. */
const aliases: Record<string, ValidationProfile> = { iso20022: "iso" };

/**
 * The profile a stored setting names (for example a correspondent's `profile` column): absent means the
 * default, `iso20022` is read as `iso`, an unknown name is refused rather than silently validated under
 * another profile.
 */
export function validationProfile(name: string | null | undefined): ValidationProfile {
  if (name === null || name === undefined || name === "") return defaultValidationProfile;
  const profile = aliases[name] ?? name;
  if (!isValidationProfile(profile)) throw new UnknownProfileError(name);
  return profile;
}
