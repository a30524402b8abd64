import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { currentLlmContext, withLlmContext } from './context.ts';

describe('withLlmContext', () => {
  it('is undefined outside any block', () => {
    expect(currentLlmContext()).toBeUndefined();
  });

  it('returns what the block returns and follows it across awaits and timers', async () => {
    const seen = await withLlmContext({ conversationId: 'c-1', route: '/chat' }, async () => {
      await sleep(5);
      const later = await new Promise((resolve) => setTimeout(() => resolve(currentLlmContext()), 5));
      return [currentLlmContext(), later];
    });
    expect(seen).toEqual([
      { conversationId: 'c-1', route: '/chat' },
      { conversationId: 'c-1', route: '/chat' },
    ]);
    expect(currentLlmContext()).toBeUndefined();
  });

  it('nests: inner fields override, missing ones are inherited, the outer block is untouched', () => {
    withLlmContext({ conversationId: 'outer', route: '/a' }, () => {
      withLlmContext({ route: '/b' }, () => {
        expect(currentLlmContext()).toEqual({ conversationId: 'outer', route: '/b' });
      });
      expect(currentLlmContext()).toEqual({ conversationId: 'outer', route: '/a' });
    });
  });

  it('keeps concurrent blocks apart', async () => {
    const run = (id: string, delay: number) =>
      withLlmContext({ conversationId: id }, async () => {
        await sleep(delay);
        return currentLlmContext()?.conversationId;
      });
    expect(await Promise.all([run('a', 20), run('b', 1), run('c', 10)])).toEqual(['a', 'b', 'c']);
  });

  it('hands out a frozen context', () => {
    withLlmContext({ conversationId: 'x' }, () => {
      expect(Object.isFrozen(currentLlmContext())).toBe(true);
    });
  });
});
