// Crash: `llm-prism serve` is killed with SIGKILL while three applications export spans, then a new
// process is started on the same port and data directory. Every span acknowledged before or after
// the crash must be stored; spans whose requests died with the process are re-sent by the
// exporters' retries or lost, and the test reports how many of each.
import { openStorage, type Storage } from '@llm-prism/storage';
import { tempDataDir } from '@llm-prism/storage/testing';
import { afterAll, expect, test } from 'vitest';
import { drain, loadClient, newLedger, pacedLoad } from '../load-clients.ts';
import { freePort, startServe, stopServe, type ServeProcess } from '../../../packages/cli/test/serve-process.ts';
import { report, tally } from '../tally.ts';

const RATE = 2_000; // spans/s: well under the capacity measured by load.test.ts
const LOAD_MS = 9_000;
const KILL_AT_MS = 3_000;
const DOWN_MS = 500;

const servers: ServeProcess[] = [];
let storage: Storage | undefined;
afterAll(async () => {
  for (const s of servers) await stopServe(s);
  await storage?.close();
});

test('SIGKILL during load: every acknowledged span is stored after the restart', async () => {
  const dataDir = await tempDataDir();
  const port = await freePort();
  servers.push(await startServe({ dataDir, port }));
  const url = servers[0]!.url;

  const ledger = newLedger();
  const clients = Array.from({ length: 3 }, (_, i) => loadClient(url, `crash-${i}`, ledger));
  const load = pacedLoad(clients, ledger, RATE, LOAD_MS);

  await new Promise((r) => setTimeout(r, KILL_AT_MS));
  const ackedBeforeKill = ledger.acked.size;
  const createdBeforeKill = ledger.created.size;
  // Sent but unanswered when the process dies: the exporters must re-send these.
  const inFlightAtKill = [...ledger.exported].filter((id) => !ledger.acked.has(id));
  servers[0]!.child.kill('SIGKILL');
  expect(await servers[0]!.exited).toBe('SIGKILL');
  await new Promise((r) => setTimeout(r, DOWN_MS));
  const restartAt = performance.now();
  servers.push(await startServe({ dataDir, port }));
  const restartMs = performance.now() - restartAt;

  const paced = await load;
  await drain(clients);
  expect(await stopServe(servers[1]!)).toBe(0);

  storage = await openStorage({ dataDir });
  const t = await tally(storage, ledger, 'crash-');
  report('crash', {
    crashes: 1,
    ackedBeforeKill,
    createdBeforeKill,
    restartMs: Math.round(restartMs),
    createdAfterRestart: paced.created - createdBeforeKill,
    inFlightAtKill: inFlightAtKill.length,
    inFlightResentAndAcked: inFlightAtKill.filter((id) => ledger.acked.has(id)).length,
    exportsGivenUp: ledger.failed.size,
    ...t,
  });

  // The kill really hit a running load, and the load went on after the restart.
  expect(ackedBeforeKill).toBeGreaterThan(0);
  expect(ackedBeforeKill).toBeLessThan(paced.created);
  expect(inFlightAtKill.length).toBeGreaterThan(0);
  expect(t.created).toBe(paced.created);
  expect(t.exported).toBe(t.created);
  expect(t.lostAcked).toBe(0);
  expect(t.acked).toBeGreaterThan(ackedBeforeKill);
  // A batch stored but not acknowledged before the kill and then re-sent is in otel_traces twice;
  // llm_calls and the rollups still count every call once.
  expect(t.llmCalls).toBe(t.callsStored);
  expect(t.ttftRollup).toBe(t.callsStored);
  expect(t.completionRollup).toBe(t.callsStored);
});
