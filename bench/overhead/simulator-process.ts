// The simulator in its own process, so its CPU time is not counted in the measured client's.
import { startSimulator } from '@llm-prism/simulator';
import { serveParent } from '../lib/child.ts';

const sim = await startSimulator({ port: 0 });
serveParent(async () => ({ baseURL: sim.openaiBaseURL }), () => sim.close());
process.send?.({ baseURL: sim.openaiBaseURL });
