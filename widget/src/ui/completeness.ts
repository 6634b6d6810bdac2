// What a report still lacks, mirroring the SOP checklist the backend stores: shown before
// sending, never blocking. Only an empty description blocks (the API refuses it: empty_report).

export interface Draft {
  trying_to_do: string;
  expected: string;
  actual: string;
  error_text: string;
  steps: string;
  frequency: string;
  people_affected: string;
  email: string;
  anonymous: boolean; // the host has not identified the user (no id or email)
}

export type Missing = "actual" | "expected" | "trying" | "frequency" | "people" | "email";

/** The same rule as ReportIn.has_description on the server. */
export function hasDescription(d: Draft): boolean {
  return !!(d.trying_to_do || d.expected || d.actual || d.error_text || d.steps);
}

/** Missing parts, most useful first. */
export function missing(d: Draft): Missing[] {
  const out: Missing[] = [];
  if (!d.actual) out.push("actual");
  if (!d.expected) out.push("expected");
  if (!d.trying_to_do) out.push("trying");
  if (!d.frequency) out.push("frequency");
  if (!d.people_affected) out.push("people");
  if (d.anonymous && !d.email) out.push("email");
  return out;
}

/** The server's email check (intake/schema.py). */
export const EMAIL = /^[^@\s<>"]{1,64}@[^@\s<>"]{1,255}\.[^@\s<>"]{1,63}$/;
