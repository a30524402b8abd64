// The issues a config is refused with, for tests of the SLO config and its sections.
import { parseSloConfig, SloConfigError } from '../src/config.ts';

export function configIssues(text: string): string[] {
  try {
    parseSloConfig(text);
  } catch (e) {
    if (e instanceof SloConfigError) return e.issues;
    throw e;
  }
  throw new Error('config was accepted');
}
