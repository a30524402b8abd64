export { DEMO_SERVICE, DEMO_SLO_CONFIG, runDemo, sendDemoTraffic, type DemoOptions, type DemoResult, type DemoTrafficOptions } from './run-demo.ts';
export { incidents, SLOW_PREFILL_MODEL } from './workload.ts';
export { DrillOptionError, runDrill, type DrillOptions, type DrillReport, type DrillResult } from './drill/drill.ts';
export { SCENARIOS, type ScenarioName } from './drill/scenarios.ts';
