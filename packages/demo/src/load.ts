// Drives the sample service: the background mix at a steady rate and the support conversation,
// injecting the incidents of workload.ts on schedule.
import type { ChatReply, ChatRequest } from './chat-request.ts';
import { backgroundRequest, conversationTurn, incidents, seeded } from './workload.ts';

export interface LoadOptions {
  serviceUrl: string;
  durationMs: number;
  /** Background requests per second. */
  rate: number;
  /** Conversation turns over the whole run. */
  turns: number;
  /** Called once, just before the first conversation turn at or after the eviction incident. */
  evict: () => void;
  onProgress?: (p: LoadProgress) => void;
  signal?: AbortSignal;
}

export interface LoadProgress {
  at: number;
  sent: number;
  ok: number;
  failed: number;
  inFlight: number;
  active: string[];
}

const MAX_IN_FLIGHT = 12;

export async function runLoad(o: LoadOptions): Promise<LoadProgress> {
  const rand = seeded(42);
  const start = performance.now();
  const p: LoadProgress = { at: 0, sent: 0, ok: 0, failed: 0, inFlight: 0, active: [] };
  const pending = new Set<Promise<void>>();
  const send = (req: ChatRequest) => {
    p.sent++;
    p.inFlight++;
    const done = fetch(`${o.serviceUrl}/chat`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(req),
      signal: o.signal,
    })
      .then(async (res) => ((await res.json()) as ChatReply).ok)
      .catch(() => false)
      .then((ok) => {
        if (ok) p.ok++;
        else p.failed++;
        p.inFlight--;
        pending.delete(done);
      });
    pending.add(done);
    return done;
  };

  const interval = 1000 / o.rate;
  const turnEvery = o.durationMs / o.turns;
  let n = 0;
  let turn = 0;
  let evicted = false;
  let conversation: Promise<void> = Promise.resolve();
  while (!o.signal?.aborted) {
    const elapsed = performance.now() - start;
    if (elapsed >= o.durationMs) break;
    p.at = elapsed / o.durationMs;
    p.active = Object.values(incidents).filter((i) => p.at >= i.from && p.at < Math.max(i.to, i.from + 0.05)).map((i) => i.name);
    // Conversation turns are sequential, as a user's are.
    if (turn < o.turns && elapsed >= turn * turnEvery) {
      const at = p.at;
      const t = turn++;
      conversation = conversation.then(() => {
        if (!evicted && at >= incidents.eviction.from) {
          evicted = true;
          o.evict();
        }
        return send(conversationTurn(t, at));
      });
    }
    if (p.inFlight < MAX_IN_FLIGHT) void send(backgroundRequest(n++, p.at, rand));
    o.onProgress?.(p);
    await new Promise((r) => setTimeout(r, interval));
  }
  await conversation;
  await Promise.all(pending);
  p.at = 1;
  o.onProgress?.(p);
  return p;
}
