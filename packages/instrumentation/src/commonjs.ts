/**
 * Dependencies loaded through `require`, not `import`. On Node 24 an ES import of a package without
 * an "exports" map (resolved through its "main" field by Node's native legacyMainResolve) turns off
 * a V8 fast path for the whole process: V8's TypedArrayLengthLookupChain protector is invalidated,
 * and from then on every typed array `length` read in optimized code is a call. The bare openai SDK
 * spends ~16 % more CPU on a streamed call in such a process (bench/README.md). The ES builds of
 * `@opentelemetry/instrumentation` (it imports require-in-the-middle) and `@opentelemetry/sdk-node`
 * (it imports @grpc/grpc-js) do that; their CommonJS builds, resolving through `require`, do not.
 */
import { createRequire } from 'node:module';

export const requireCommonJs = createRequire(import.meta.url);
