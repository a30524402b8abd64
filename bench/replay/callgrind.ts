// One process under valgrind's callgrind: `node --single-threaded bench/replay/callgrind.ts <stream.json> <variant> <warm-up> <calls>`
// replays the stream `warm-up` + `calls` times through one variant (replay.ts) and exits. run.ts
// runs it twice per variant, with 0 and with `calls` measured calls, and divides the difference
// of the instruction counts by `calls`: start-up, module loading and warm-up cancel out.
import { readFileSync } from 'node:fs';
import { flush, instrumentedCall, sdkCall } from './replay.ts';
import { fromJson, type ReplayStream } from './streams.ts';

const [file, variant, warmUp, calls] = process.argv.slice(2) as [string, 'sdk' | 'prism', string, string];
const stream: ReplayStream = fromJson(readFileSync(file, 'utf8'));
const call = variant === 'sdk' ? () => sdkCall(stream) : async () => instrumentedCall(stream, false);
for (let i = 0; i < Number(warmUp); i++) await call();
await flush();
for (let i = 0; i < Number(calls); i++) await call();
await flush();
