/** `gen_ai.provider.name` from a request's host, path and headers (provider-name.ts). */
import { describe, expect, it } from 'vitest';
import { providerName, serverOf } from './provider-name.ts';

const headers =
  (h: Record<string, string>) =>
  (name: string): string | undefined =>
    h[name];

describe('providerName', () => {
  it('names the hosts with well-known values', () => {
    const cases: Array<[format: 'openai' | 'anthropic' | 'gemini', url: string, name: string]> = [
      ['openai', 'https://api.openai.com/v1/chat/completions', 'openai'],
      ['openai', 'https://my-res.openai.azure.com/openai/deployments/gpt4o/chat/completions?api-version=2024-10-21', 'azure.ai.openai'],
      ['openai', 'https://my-res.openai.azure.com/openai/v1/responses', 'azure.ai.openai'],
      ['openai', 'https://my-res.cognitiveservices.azure.com/openai/deployments/d/chat/completions', 'azure.ai.openai'],
      ['openai', 'https://my-res.services.ai.azure.com/openai/v1/chat/completions', 'azure.ai.openai'],
      ['openai', 'https://my-res.services.ai.azure.com/models/chat/completions?api-version=2024-05-01-preview', 'azure.ai.inference'],
      ['openai', 'https://api.groq.com/openai/v1/chat/completions', 'groq'],
      ['openai', 'https://api.deepseek.com/chat/completions', 'deepseek'],
      ['openai', 'https://api.x.ai/v1/chat/completions', 'x_ai'],
      ['openai', 'https://api.mistral.ai/v1/chat/completions', 'mistral_ai'],
      ['openai', 'https://api.perplexity.ai/chat/completions', 'perplexity'],
      ['openai', 'https://api.cohere.ai/compatibility/v1/chat/completions', 'cohere'],
      ['anthropic', 'https://api.anthropic.com/v1/messages', 'anthropic'],
      ['gemini', 'https://generativelanguage.googleapis.com/v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse', 'gcp.gemini'],
      ['gemini', 'https://us-central1-aiplatform.googleapis.com/v1/projects/p/locations/us-central1/publishers/google/models/gemini-2.5-pro:generateContent', 'gcp.vertex_ai'],
      ['openai', 'https://aiplatform.googleapis.com/v1/projects/p/locations/global/endpoints/openapi/chat/completions', 'gcp.vertex_ai'],
      ['openai', 'https://bedrock-runtime.us-west-2.amazonaws.com/openai/v1/chat/completions', 'aws.bedrock'],
      // Multi-region Vertex AI (AnthropicVertex and @google/genai for `us`, `eu`), Bedrock Mantle's default host.
      ['anthropic', 'https://aiplatform.us.rep.googleapis.com/v1/projects/p/locations/us/publishers/anthropic/models/claude-sonnet-4-5:rawPredict', 'gcp.vertex_ai'],
      ['gemini', 'https://aiplatform.eu.rep.googleapis.com/v1beta1/projects/p/locations/eu/publishers/google/models/gemini-2.5-pro:generateContent', 'gcp.vertex_ai'],
      ['anthropic', 'https://bedrock-mantle.us-east-1.api.aws/anthropic/v1/messages', 'aws.bedrock'],
      ['anthropic', 'https://bedrock-runtime.us-east-1.api.aws/model/anthropic.claude-sonnet-4-5/invoke', 'aws.bedrock'],
    ];
    for (const [format, url, name] of cases) expect(providerName(format, { url }), url).toBe(name);
  });

  it('knows Azure OpenAI by its request shape on any host, and the AzureOpenAI client by itself', () => {
    expect(providerName('openai', { url: 'http://127.0.0.1:8080/openai/deployments/gpt-4o/chat/completions?api-version=2024-10-21' })).toBe('azure.ai.openai');
    expect(providerName('openai', { url: 'http://proxy.internal/v1/chat/completions?api-version=2024-10-21' })).toBe('azure.ai.openai');
    expect(providerName('openai', { url: 'http://127.0.0.1:8080/openai', azureClient: true })).toBe('azure.ai.openai');
    // The shape is OpenAI's: an Anthropic request with an api-version is still Anthropic's.
    expect(providerName('anthropic', { url: 'http://127.0.0.1:8080/v1/messages?api-version=1' })).toBe('anthropic');
  });

  it('takes a gateway’s word for its upstream (Portkey header, Cloudflare AI Gateway path)', () => {
    expect(providerName('openai', { url: 'https://api.portkey.ai/v1/chat/completions', header: headers({ 'x-portkey-provider': 'groq' }) })).toBe('groq');
    expect(providerName('openai', { url: 'https://api.portkey.ai/v1/chat/completions', header: headers({ 'x-portkey-provider': 'azure-openai' }) })).toBe('azure.ai.openai');
    expect(providerName('openai', { url: 'https://gateway.ai.cloudflare.com/v1/acct/gw/deepseek/chat/completions' })).toBe('deepseek');
    expect(providerName('anthropic', { url: 'https://gateway.ai.cloudflare.com/v1/acct/gw/anthropic/v1/messages' })).toBe('anthropic');
    // A gateway naming a provider without a well-known value: the rules below decide.
    expect(providerName('openai', { url: 'https://api.portkey.ai/v1/chat/completions', header: headers({ 'x-portkey-provider': 'together-ai' }) })).toBe('openai');
  });

  it('names an unknown host by the owner of its wire format', () => {
    for (const url of ['http://localhost:11434/v1/chat/completions', 'https://openrouter.ai/api/v1/chat/completions', 'https://api.together.xyz/v1/chat/completions', 'http://vllm:8000/v1/responses', 'not a url', undefined]) {
      expect(providerName('openai', { url }), String(url)).toBe('openai');
    }
    expect(providerName('anthropic', { url: 'http://litellm:4000/v1/messages' })).toBe('anthropic');
    expect(providerName('gemini', { url: 'http://localhost:9000/v1beta/models/m:generateContent' })).toBe('gcp.gemini');
    // Look-alike hosts are not the provider.
    expect(providerName('openai', { url: 'https://api.openai.com.evil.example/v1/chat/completions' })).toBe('openai');
    expect(providerName('openai', { url: 'https://notgroq.com/v1/chat/completions' })).toBe('openai');
  });

  it('server.address / server.port from the URL, the port defaulted by the scheme', () => {
    expect(serverOf('https://api.openai.com/v1/chat/completions')).toEqual({ serverAddress: 'api.openai.com', serverPort: 443 });
    expect(serverOf('http://[::1]:8080/v1/messages')).toEqual({ serverAddress: '::1', serverPort: 8080 });
    expect(serverOf('http://ollama/v1/chat/completions')).toEqual({ serverAddress: 'ollama', serverPort: 80 });
  });
});
