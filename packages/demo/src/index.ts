export { DEMO_SERVICE, DEMO_SLO_CONFIG, runDemo, type DemoOptions, type DemoResult } from './run-demo.ts';
export { incidents, SLOW_PREFILL_MODEL } from './workload.ts';
