/** The kinds of caller the gateway knows. The public needs no credentials. */
export const ROLES = ["operator", "bank", "correspondent", "exchange"] as const;
export type Role = (typeof ROLES)[number];

/** Who may call a route: everyone, or principals holding one of the roles. Every route declares one. */
export type Access = "public" | readonly Role[];

export interface Principal {
  id: string;
  role: Role;
  name: string;
  /** The credential that authenticated this request. */
  credentialId: string;
}

export function isRole(value: string): value is Role {
  return (ROLES as readonly string[]).includes(value);
}
