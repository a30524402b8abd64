/**
 * The provider ids: one per wire format (provider family), whatever host serves it. A leaf
 * module, so the public config type can name them without importing the formats themselves.
 */
export type ProviderId = 'openai' | 'anthropic' | 'gemini';
