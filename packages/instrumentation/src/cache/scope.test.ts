import { expect, it } from 'vitest';
import { cacheScopeOf } from './scope.ts';

const target = (url: string, headers: Record<string, string>) => ({ url, header: (name: string) => headers[name] });

it('one scope per endpoint and caller; the credentials are kept only as a digest', () => {
  const a = cacheScopeOf(target('https://api.openai.com/v1/chat/completions', { authorization: 'Bearer sk-tenant-a' }));
  expect(cacheScopeOf(target('https://api.openai.com/v1/responses', { authorization: 'Bearer sk-tenant-a' }))).toBe(a);
  const others = [
    cacheScopeOf(target('https://api.openai.com/v1/chat/completions', { authorization: 'Bearer sk-tenant-b' })),
    cacheScopeOf(target('https://api.openai.com/v1/chat/completions', { authorization: 'Bearer sk-tenant-a', 'openai-project': 'proj_2' })),
    cacheScopeOf(target('https://res.openai.azure.com/openai/v1/chat/completions', { authorization: 'Bearer sk-tenant-a' })),
    cacheScopeOf(target('https://generativelanguage.googleapis.com/v1beta/models/m:generateContent?key=k2', {})),
  ];
  expect(new Set([a, ...others]).size).toBe(5);
  // Bedrock signs each request anew (SigV4): one caller while the access key is one.
  const sigv4 = (signature: string) =>
    cacheScopeOf(target('https://bedrock-runtime.us-east-1.amazonaws.com/model/m/invoke', { authorization: `AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20261203/us-east-1/bedrock/aws4_request, SignedHeaders=host, Signature=${signature}` }));
  expect(sigv4('aaaa')).toBe(sigv4('bbbb'));
  for (const scope of [a, ...others]) expect(scope).not.toMatch(/sk-tenant|proj_2|k2/);
});
