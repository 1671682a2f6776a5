import { renderToStaticMarkup } from 'react-dom/server';
import { describe, expect, it, vi } from 'vitest';
import { lazyScreen } from './lazy-screen';

function Hello() {
  return <p>hello</p>;
}

describe('lazyScreen', () => {
  it('loads the chunk once, and renders a loaded screen without suspending', async () => {
    const load = vi.fn(async () => ({ Hello }));
    const Screen = lazyScreen(load, 'Hello');
    await Promise.all([Screen.preload(), Screen.preload()]);
    expect(load).toHaveBeenCalledTimes(1);
    // renderToStaticMarkup cannot wait for a suspended component: this only passes without Suspense.
    expect(renderToStaticMarkup(<Screen />)).toBe('<p>hello</p>');
  });

  it('tries a chunk that failed to load again next time', async () => {
    const load = vi.fn().mockRejectedValueOnce(new Error('chunk gone')).mockResolvedValue({ Hello });
    const Screen = lazyScreen(load, 'Hello');
    await expect(Screen.preload()).rejects.toThrow('chunk gone');
    await Screen.preload();
    expect(load).toHaveBeenCalledTimes(2);
    expect(renderToStaticMarkup(<Screen />)).toBe('<p>hello</p>');
  });
});
