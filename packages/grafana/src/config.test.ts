import { describe, expect, it } from 'vitest';
import { PRICE_TABLE } from '@llm-prism/storage';
import { objectivePercent, parseSloConfig } from './config.ts';
import { configIssues } from '../test/config-issues.ts';

const valid = `
window: 30d
slos:
  - service: chat
    route: /answer
    ttft: { thresholdMs: 1500, objective: 0.95 }
    completion: { thresholdMs: 20000, objective: 0.99 }
`;


describe('SLO config', () => {
  it('parses a valid config, defaulting the database and deriving the id', () => {
    expect(parseSloConfig(valid)).toEqual({
      window: '30d',
      database: 'otel',
      slos: [
        {
          id: 'chat-answer',
          service: 'chat',
          route: '/answer',
          ttft: { thresholdMs: 1500, objective: 0.95 },
          completion: { thresholdMs: 20000, objective: 0.99 },
        },
      ],
      prices: PRICE_TABLE,
    });
  });

  it('takes a config of prices alone (no SLOs): no window to state, no SLOs', () => {
    const config = parseSloConfig('prices:\n  - model: my-finetune\n    input: 3\n    output: 12\n', 'prices.yaml');
    expect(config).toMatchObject({ window: '30d', database: 'otel', slos: [], source: 'prices.yaml' });
    expect(config.prices.find((p) => p.model === 'my-finetune')).toMatchObject({ input: 3, output: 12 });
    // A window without SLOs is still checked, and SLOs still need one.
    expect(configIssues('window: 7d\nprices: []\n')).toEqual(['window: must be 28d or 30d, got "7d"']);
    expect(configIssues('slos:\n  - service: chat\n    ttft: { thresholdMs: 1500, objective: 0.95 }\n    completion: { thresholdMs: 20000, objective: 0.99 }\n')).toEqual(['window: must be 28d or 30d, got undefined']);
  });

  it('names the path of every bad field', () => {
    const bad = `
window: 7d
slos:
  - service: chat
    ttft: { thresholdMs: 1505, objective: 0.95 }
    completion: { thresholdMs: 20000, objective: 1.2, extra: 1 }
  - ttft: { thresholdMs: 400000, objective: 0.9 }
    completion: { thresholdMs: 1000 }
    modle: x
`;
    const found = configIssues(bad);
    expect(found).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^window: must be 28d or 30d/),
        expect.stringMatching(/^slos\[0\]\.ttft\.thresholdMs: must be a latency on the bucket grid.*1505/),
        expect.stringMatching(/^slos\[0\]\.completion\.objective: must be a number from 0.5 to 0.9999/),
        expect.stringMatching(/^slos\[0\]\.completion\.extra: unknown field/),
        expect.stringMatching(/^slos\[1\]\.modle: unknown field/),
        expect.stringMatching(/^slos\[1\]\.service: required/),
        expect.stringMatching(/^slos\[1\]\.ttft\.thresholdMs: .*400000/),
        expect.stringMatching(/^slos\[1\]\.completion\.objective: .*undefined/),
      ]),
    );
  });

  it('refuses objectives outside the range the alert policy covers, and accepts its ends', () => {
    const slo = (o: number) => `window: 28d\nslos:\n  - service: chat\n    ttft: { thresholdMs: 1000, objective: ${o} }\n    completion: { thresholdMs: 2000, objective: 0.99 }\n`;
    for (const o of [0.49, 0.99995, 0, 1]) {
      expect(configIssues(slo(o))).toEqual([expect.stringMatching(/^slos\[0\]\.ttft\.objective: must be a number from 0\.5 to 0\.9999 .*no alert policy both pages on a total outage/)]);
    }
    for (const o of [0.5, 0.9999]) expect(parseSloConfig(slo(o)).slos[0]?.ttft.objective).toBe(o);
  });

  it('takes a runbook URL without an anchor', () => {
    const text = `runbookUrl: https://wiki.example.com/llm/slo\n${valid}`;
    expect(parseSloConfig(text).runbookUrl).toBe('https://wiki.example.com/llm/slo');
    expect(configIssues(`runbookUrl: https://x.example/slo#alerts\n${valid}`)).toEqual([expect.stringMatching(/^runbookUrl: must be a URL without/)]);
  });

  it('rejects duplicate ids and an empty SLO list', () => {
    const dup = `${valid}  - service: chat\n    route: /answer\n    ttft: { thresholdMs: 1000, objective: 0.9 }\n    completion: { thresholdMs: 2000, objective: 0.9 }\n`;
    expect(configIssues(dup)).toEqual([expect.stringMatching(/^slos\[1\]\.id: duplicate SLO id "chat-answer"/)]);
    expect(configIssues('window: 28d\nslos: []\n')).toEqual(['slos: must be a non-empty list (leave it out for a config without SLOs)']);
  });

  it('quotes YAML\'s .nan and .inf as such in the message (JSON would say null)', () => {
    const withObjective = (o: string) => valid.replace('objective: 0.95', `objective: ${o}`);
    expect(configIssues(withObjective('.nan'))).toEqual([expect.stringMatching(/^slos\[0\]\.ttft\.objective: .*, got NaN$/)]);
    expect(configIssues(withObjective('.inf'))).toEqual([expect.stringMatching(/, got Infinity$/)]);
  });

  it('refuses a "$" in a service, model or route name: Grafana would expand it in the labels and queries', () => {
    const named = (field: string) => `window: 30d\nslos:\n  - id: x\n    service: chat\n    ${field}\n    ttft: { thresholdMs: 1500, objective: 0.95 }\n    completion: { thresholdMs: 20000, objective: 0.99 }\n`;
    expect(configIssues(named('model: "gpt$HOME"'))).toEqual(['slos[0].model: must not contain "$" (Grafana would expand it in the rules\' labels and queries), got "gpt$HOME"']);
    expect(configIssues(named('route: "/a$__toTime"'))).toEqual([expect.stringMatching(/^slos\[0\]\.route: must not contain "\$"/)]);
  });
});

describe('objectivePercent', () => {
  it('writes an objective as people do, without float noise (0.57 × 100 is 56.99999999999999)', () => {
    expect([0.57, 0.58, 0.5002, 0.99, 0.999, 0.9995, 0.9999, 0.5].map(objectivePercent)).toEqual(['57', '58', '50.02', '99', '99.9', '99.95', '99.99', '50']);
  });
});
