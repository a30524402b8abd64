// `llm-prism slo drill --json` end to end: the real CLI records real calls (sample service, OpenAI
// SDK, simulator, instrumentation, ingest) and replays the scripted incidents for objectives 0.9,
// 0.95, 0.99 and 0.999, checking the rules' SQL on the scratch store as it goes.
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const run = promisify(execFile);
const ROOT = new URL('..', import.meta.url).pathname;
const BIN = join(ROOT, 'packages/cli/src/bin.ts');

interface Result {
  slo: string;
  objective: number;
  scenario: string;
  severity: 'page' | 'ticket';
  firedAfterMinutes: number | null;
}

const CONFIG = `window: 28d
slos:
  - service: drill-chat
    model: gpt-4o
    ttft: { thresholdMs: 1000, objective: 0.9 }
    completion: { thresholdMs: 5000, objective: 0.95 }
  - service: drill-chat
    model: gpt-4o-mini
    ttft: { thresholdMs: 800, objective: 0.99 }
    completion: { thresholdMs: 5000, objective: 0.999 }
`;

let dir: string;
let results: Result[];

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'llm-prism-drill-test-'));
  await writeFile(join(dir, 'slo.yaml'), CONFIG);
  // Three calls a minute keep the replay light; the objectives need no more (docs/slo.md, Fire drill).
  const { stdout } = await run(process.execPath, [BIN, 'slo', 'drill', '--config', join(dir, 'slo.yaml'), '--json', '--calls-per-minute', '3'], {
    timeout: 170_000,
    maxBuffer: 1 << 24,
  });
  results = JSON.parse(stdout) as Result[];
}, 180_000);

afterAll(async () => {
  if (dir !== undefined) await rm(dir, { recursive: true, force: true });
});

const fired = (slo: string, scenario: string, severity: 'page' | 'ticket') =>
  results.find((r) => r.slo === slo && r.scenario === scenario && r.severity === severity)?.firedAfterMinutes;

describe('llm-prism slo drill --json', () => {
  const slos = ['drill-chat-gpt-4o-ttft', 'drill-chat-gpt-4o-completion', 'drill-chat-gpt-4o-mini-ttft', 'drill-chat-gpt-4o-mini-completion'];

  it('reports every SLO, scenario and severity with its objective', () => {
    expect(results).toHaveLength(4 * 5 * 2);
    expect(Object.fromEntries(results.map((r) => [r.slo, r.objective]))).toEqual({
      'drill-chat-gpt-4o-ttft': 0.9,
      'drill-chat-gpt-4o-completion': 0.95,
      'drill-chat-gpt-4o-mini-ttft': 0.99,
      'drill-chat-gpt-4o-mini-completion': 0.999,
    });
    expect(new Set(results.map((r) => r.scenario))).toEqual(new Set(['total_outage', 'slow_burn_10x', 'burn_1', 'hang', 'flapping']));
    for (const r of results) expect(Object.keys(r).sort()).toEqual(['firedAfterMinutes', 'objective', 'scenario', 'severity', 'slo']);
  });

  it('pages within 5 minutes of a total outage, for every SLO', () => {
    for (const slo of slos) {
      expect(fired(slo, 'total_outage', 'page'), slo).not.toBeNull();
      expect(fired(slo, 'total_outage', 'page'), slo).toBeLessThanOrEqual(5);
    }
  });

  it('neither pages nor tickets on a burn of exactly 1 over 3 days, for every SLO', () => {
    for (const slo of slos) {
      expect(fired(slo, 'burn_1', 'page'), slo).toBeNull();
      expect(fired(slo, 'burn_1', 'ticket'), slo).toBeNull();
    }
  });

  it('pages on a 10× burn and on a flapping provider, for every SLO', () => {
    for (const slo of slos) {
      expect(fired(slo, 'slow_burn_10x', 'page'), slo).not.toBeNull();
      expect(fired(slo, 'flapping', 'page'), slo).toBeLessThanOrEqual(5);
    }
  });

  it('today, a hang pages late or never: a hung call is counted only once its client gives up (10 min)', () => {
    // What the instrumentation emits today: nothing until the call ends. The 90 % and 95 % SLOs'
    // fast page windows (2 min) end before the hung calls' spans arrive; the 6 h row's rate is
    // not reached by one hour of hangs. Making hangs visible while they hang is separate work.
    for (const slo of slos) {
      const page = fired(slo, 'hang', 'page');
      if (page !== null) expect(page, slo).toBeGreaterThan(10);
    }
    expect(fired('drill-chat-gpt-4o-ttft', 'hang', 'page')).toBeNull();
    expect(fired('drill-chat-gpt-4o-completion', 'hang', 'page')).toBeNull();
  });

  it('refuses an objective outside the policy range, naming the field', async () => {
    await writeFile(join(dir, 'bad.yaml'), CONFIG.replace('objective: 0.9 }', 'objective: 0.3 }'));
    const failure = await run(process.execPath, [BIN, 'slo', 'drill', '--config', join(dir, 'bad.yaml')], { timeout: 30_000 }).then(
      () => null,
      (e: { code: number; stderr: string }) => e,
    );
    expect(failure?.code).toBe(1);
    expect(failure?.stderr).toContain('slos[0].ttft.objective: must be a number from 0.5 to 0.9999');
  });
});
