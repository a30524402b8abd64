/** Every exported name is documented in docs/conventions.md, and the package entry exports them all. */
import { readFileSync } from 'node:fs';
import { expect, it } from 'vitest';
import * as api from './index.ts';
import * as semconv from './semconv.ts';

const conventions = readFileSync(new URL('../../../docs/conventions.md', import.meta.url), 'utf8');
const escape = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

it('lists every attribute, metric, span, event and value constant in docs/conventions.md', () => {
  const missing = Object.entries(semconv).filter(([, value]) => !new RegExp(`\`${escape(value)}[\` ]`).test(conventions));
  expect(missing).toEqual([]);
});

it('names each constant after its value, as @opentelemetry/semantic-conventions does', () => {
  for (const [name, value] of Object.entries(semconv)) {
    const upper = value.toUpperCase().replace(/[.]/g, '_');
    if (name.startsWith('ATTR_')) expect(name).toBe(`ATTR_${upper}`);
    else if (name.startsWith('METRIC_')) expect(name).toBe(`METRIC_${upper}`);
    else if (name.startsWith('SPAN_NAME_')) expect(name).toBe(`SPAN_NAME_${upper}`);
    else if (name.startsWith('EVENT_')) expect(name).toBe(`EVENT_${upper}`);
    else expect(name, name).toMatch(new RegExp(`_VALUE_${escape(upper)}$`));
  }
});

it('exports every constant from the package entry point', () => {
  for (const [name, value] of Object.entries(semconv)) expect((api as Record<string, unknown>)[name], name).toBe(value);
});
