import { CodedError } from "../../core/errors.ts";

/**
 * Which rules a message is held to:
 * - `cbpr+` (default): safe XML, the XSDs and the CBPR+ usage rules of the current release (SR2026: postal
 *   addresses structured or hybrid, with at least TwnNm and Ctry); a message whose AppHdr declares an HVPS+
 *   business service (BizSvc `swift.iap.*` or `swift.hvps.*`) is held to the HVPS+ rules instead.
 * - `cbpr+@sr2025`: the CBPR+ rules of the previous release (unstructured addresses still accepted), for a
 *   correspondent that has not moved yet.
 * - `hvps+`: the same usage rules with the HVPS+ differences (settlement through the RTGS system, CLRG).
 * - `iso`: safe XML and the official XSDs only, for Fedwire, other market practices and plain ISO 20022.
 */
export const validationProfiles = ["cbpr+", "cbpr+@sr2025", "hvps+", "iso"] as const;

export type ValidationProfile = (typeof validationProfiles)[number];

export const defaultValidationProfile: ValidationProfile = "cbpr+";

/** The CBPR+ standards release `cbpr+` implements (SWIFT's yearly release, in force since November 2026). */
export const currentCbprRelease = "SR2026";

/** The CBPR+ release a profile implements; null for `hvps+` (no release-specific rules) and `iso`. */
export function cbprRelease(profile: ValidationProfile): "SR2026" | "SR2025" | null {
  if (profile === "cbpr+") return currentCbprRelease;
  if (profile === "cbpr+@sr2025") return "SR2025";
  return null;
}

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
const aliases: Record<string, ValidationProfile> = { iso20022: "iso", "cbpr+@sr2026": "cbpr+" };

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
