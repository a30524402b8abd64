import { AsyncLocalStorage } from 'node:async_hooks';
import type { CallListener } from './internal-types.ts';

/**
 * The call whose SDK code is running; HTTP requests created in it (undici or node:http) are its
 * attempts.
 */
export const callScope = new AsyncLocalStorage<CallListener>();
