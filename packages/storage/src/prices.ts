// The shipped price table: USD per million tokens for current OpenAI, Anthropic and Google Gemini
// models, each row with the page it was read from and when. A price that could not be sourced is
// left out (the field is absent), never guessed: a call that uses a token class without a price,
// or a model without a row, is unpriced — shown as such, never as free (docs/cost.md).
// Overridden and extended by `prices:` in llm-prism.slo.yaml (@llm-prism/grafana config).

/** USD per million tokens of each token class. */
export interface TokenPrices {
  /** Uncached input tokens. */
  input: number;
  /** Output tokens (reasoning included unless `reasoning` prices them separately). */
  output: number;
  /** Input read from the prompt cache. */
  cacheRead?: number;
  /** Input written to the cache with the 5-minute TTL (Anthropic's default; the price applied to writes). */
  cacheWrite5m?: number;
  /** Input written with the 1-hour TTL (listed; llm_calls does not record a write's TTL). */
  cacheWrite1h?: number;
  /** Reasoning tokens, where a provider prices them apart from output. */
  reasoning?: number;
}

export interface ModelPrice extends TokenPrices {
  /** The model id as the provider names it (`gpt-4o`, `claude-sonnet-5`); dated snapshots map to it (docs/cost.md). */
  model: string;
  provider: string;
  /** Prices of every token of a call whose input exceeds `aboveInputTokens` (Gemini's > 200k tier). */
  longContext?: Partial<TokenPrices> & { aboveInputTokens: number };
  /** Batch API prices (listed; calls recorded by the instrumentation are synchronous, so never applied). */
  batch?: { input: number; output: number };
  /** Where the prices were read, and the date of that reading. */
  source: string;
  asOf: string;
}

const OPENAI_PAGE = 'https://chatgptpricing-akr.pages.dev/api-pricing (table of developers.openai.com/api/docs/pricing)';
const ANTHROPIC_PAGE = 'https://platform.claude.com/docs/en/about-claude/pricing';
const READ = '2026-12-01';

/** Anthropic's pricing table rows (base input, 5m write, 1h write, cache hit, output). */
function claude(model: string, input: number, cacheWrite5m: number, cacheWrite1h: number, cacheRead: number, output: number, source = ANTHROPIC_PAGE): ModelPrice {
  return { model, provider: 'anthropic', input, output, cacheRead, cacheWrite5m, cacheWrite1h, source, asOf: READ };
}

export const PRICE_TABLE: readonly ModelPrice[] = [
  // OpenAI: cached input is a read; OpenAI reports no cache writes.
  { model: 'gpt-4o', provider: 'openai', input: 2.5, cacheRead: 1.25, output: 10, batch: { input: 1.25, output: 5 }, source: OPENAI_PAGE, asOf: READ },
  { model: 'gpt-4o-mini', provider: 'openai', input: 0.15, cacheRead: 0.075, output: 0.6, batch: { input: 0.075, output: 0.3 }, source: OPENAI_PAGE, asOf: READ },
  {
    model: 'gpt-4.1',
    provider: 'openai',
    input: 2,
    cacheRead: 0.5,
    output: 8,
    batch: { input: 1, output: 4 },
    source: 'https://raw.githubusercontent.com/github/docs/main/data/tables/copilot/models-and-pricing.yml (input, cached, output); LiteLLM price map gist ei-grad/9a7c000f (batch)',
    asOf: READ,
  },
  { model: 'gpt-4.1-mini', provider: 'openai', input: 0.4, cacheRead: 0.1, output: 1.6, source: 'https://vercel.com/ai-gateway/models/gpt-4.1-mini/api (billed at OpenAI API rates)', asOf: READ },
  // Anthropic: cache writes by TTL, batch at 50 % of input and output.
  claude('claude-fable-5-1', 10, 12.5, 20, 0.25, 50),
  claude('claude-fable-5', 10, 12.5, 20, 1, 50),
  claude('claude-opus-5', 5, 6.25, 10, 0.5, 25),
  claude('claude-opus-4-8', 5, 6.25, 10, 0.5, 25),
  claude('claude-opus-4-7', 5, 6.25, 10, 0.5, 25),
  claude('claude-opus-4-6', 5, 6.25, 10, 0.5, 25),
  claude('claude-opus-4-5', 5, 6.25, 10, 0.5, 25),
  claude('claude-opus-4-1', 15, 18.75, 30, 1.5, 75),
  {
    ...claude('claude-sonnet-5', 2, 2.5, 4, 0.2, 10, 'https://platform.claude.com/docs/zh-CN/models/sonnet-5/overview'),
    batch: { input: 1, output: 5 },
  },
  // Gemini: thinking tokens are in the output count and priced as output.
  { model: 'gemini-2.5-flash', provider: 'gcp.gemini', input: 0.3, output: 2.5, source: 'https://www.morphllm.com/gemini-api-pricing (rates of ai.google.dev/gemini-api/docs/pricing)', asOf: READ },
  { model: 'gemini-2.5-flash-lite', provider: 'gcp.gemini', input: 0.1, output: 0.4, source: 'https://www.morphllm.com/gemini-api-pricing (rates of ai.google.dev/gemini-api/docs/pricing)', asOf: READ },
  {
    model: 'gemini-2.5-pro',
    provider: 'gcp.gemini',
    input: 1.25,
    output: 10,
    longContext: { aboveInputTokens: 200_000, input: 2.5, output: 15 },
    source: 'https://deploybase.ai/articles/gemini-api-pricing-2026 (Google pricing page, March 2026)',
    asOf: READ,
  },
  {
    model: 'gemini-3.1-pro',
    provider: 'gcp.gemini',
    input: 2,
    output: 12,
    longContext: { aboveInputTokens: 200_000, input: 4 },
    source: 'https://www.morphllm.com/gemini-api-pricing (rates of ai.google.dev/gemini-api/docs/pricing)',
    asOf: READ,
  },
];

/**
 * The table a deployment uses: the shipped rows, each replaced by a configured row of the same
 * model, then the configured models the table does not have.
 */
export function mergePrices(shipped: readonly ModelPrice[], configured: readonly ModelPrice[]): ModelPrice[] {
  const byModel = new Map(configured.map((p) => [p.model, p]));
  const merged = shipped.map((p) => byModel.get(p.model) ?? p);
  return [...merged, ...configured.filter((p) => !shipped.some((s) => s.model === p.model))];
}

/**
 * The dated-snapshot rule: a `models/` prefix (Gemini's resource names) and a trailing date —
 * `-2024-08-06` (OpenAI), `-20250929` (Anthropic) or `@20250929` (Vertex) — are dropped.
 */
export const SNAPSHOT_SUFFIX = '[-@]([0-9]{4}-[0-9]{2}-[0-9]{2}|[0-9]{8})$';
export const MODEL_PREFIX = '^models/';

