/** What the demo's load generator sends to the sample service's POST /chat. */
export interface ChatRequest {
  api: 'openai.chat' | 'openai.responses' | 'anthropic.messages' | 'gemini.generateContent' | 'ai-sdk.streamText';
  model: string;
  stream: boolean;
  system: string;
  messages: { role: 'user' | 'assistant'; content: string }[];
  tools?: boolean;
  conversationId?: string;
  route?: string;
  /** Break out of the stream after this many chunks, as a "stop generating" button does. */
  stopAfterChunks?: number;
  /** OpenAI APIs only: the client gives up after this many ms, without retrying (default: the SDK's 10 min and retries). */
  timeoutMs?: number;
  /** Provider-simulator scenario (see packages/simulator/README.md). */
  scenario?: Record<string, unknown>;
}

export interface ChatReply {
  ok: boolean;
  ms: number;
  error?: string;
}
