/**
 * The clients' retry loops (not a wire format's: they wrap requests of any format) whose every
 * invocation runs in a call group (call-group.ts), so their retries are attempts of one call.
 */

/** A client's retry helper whose whole loop runs in a call group (call-group.ts). */
export interface RetryLoop {
  module: string;
  versions: string[];
  /** The exported factory: `retryWithExponentialBackoff(options)` returns `retry(f)`. */
  exportName: string;
}

export const RETRY_LOOPS: RetryLoop[] = [
  {
    // The Vercel AI SDK's retry loop (`maxRetries`): `ai` 6 imports it from provider-utils 4, `ai` 7
    // from provider-utils 5 (ESM only; import-in-the-middle wraps the named export). `ai` 5 bundles
    // its own copy of the loop (not exported): its retries are recognised as calls of their own.
    module: '@ai-sdk/provider-utils',
    versions: ['>=4.0.0 <6'],
    exportName: 'retryWithExponentialBackoff',
  },
];

/** A class whose method runs one whole retry loop per invocation, in a call group (call-group.ts). */
export interface RetryMethod {
  module: string;
  versions: string[];
  /** Module file without extension, and the extensions it ships with. */
  file: string;
  extensions: string[];
  exportName: string;
  /** The first of these the prototype defines is wrapped (older releases loop in `call`). */
  methods: string[];
}

export const RETRY_METHODS: RetryMethod[] = [
  {
    // LangChain.js chat models (`ChatOpenAI`, `ChatAnthropic`) send each request through their
    // AsyncCaller (p-retry, `maxRetries`, default 6) with the SDK's own retries off.
    module: '@langchain/core',
    versions: ['>=0.3.0 <2'],
    file: '@langchain/core/dist/utils/async_caller',
    extensions: ['.cjs', '.js'],
    exportName: 'AsyncCaller',
    methods: ['callWithRetries', 'call'],
  },
];
