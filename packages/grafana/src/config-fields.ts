// Field checks shared by the SLO config's sections (config.ts, prices-config.ts): each problem is
// collected with its path, so one run of the validator names every bad field.

export type Issues = string[];

export function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

export function checkKeys(v: Record<string, unknown>, path: string, allowed: readonly string[], issues: Issues): void {
  for (const key of Object.keys(v)) {
    if (!allowed.includes(key)) issues.push(`${path}.${key}: unknown field (expected one of ${allowed.join(', ')})`);
  }
}

export function optionalString(v: Record<string, unknown>, key: string, path: string, issues: Issues): string | undefined {
  const value = v[key];
  if (value === undefined) return undefined;
  if (typeof value !== 'string' || value === '') {
    issues.push(`${path}.${key}: must be a non-empty string`);
    return undefined;
  }
  return value;
}
