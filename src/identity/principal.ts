/** The kinds of caller the gateway knows. The public needs no credentials. */
export const ROLES = ["operator", "bank", "correspondent", "exchange", "broker"] as const;
export type Role = (typeof ROLES)[number];

/** Who may call a route: everyone, or principals holding one of the roles. Every route declares one. */
export type Access = "public" | readonly Role[];

/**
 * The institution a bank, correspondent, exchange or broker principal acts for: its BIC and, for a bank or a
 * broker, the DT participant that services its (customers') digital accounts (the only accounts it may pay from).
 */
export interface Institution {
  bic: string;
  dtParticipant?: string | undefined;
}

export interface Principal {
  id: string;
  role: Role;
  name: string;
  /** Undefined for operators (they act for the gateway) and for principals registered before institutions. */
  institution?: Institution | undefined;
  /** The credential that authenticated this request. */
  credentialId: string;
}

export const BIC_PATTERN = "^[A-Z]{4}[A-Z]{2}[A-Z0-9]{2}([A-Z0-9]{3})?$";

export function isRole(value: string): value is Role {
  return (ROLES as readonly string[]).includes(value);
}
