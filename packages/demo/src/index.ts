export { DEMO_SERVICE, runDemo, type DemoOptions, type DemoResult } from './run-demo.ts';
export { incidents, SLOW_PREFILL_MODEL } from './workload.ts';
