import { type ComponentType, createElement, lazy, useState } from 'react';

export interface LazyScreen {
  (): ReturnType<typeof createElement>;
  /** Loads the screen's chunk; later renders of the screen then need no Suspense at all. */
  preload(): Promise<void>;
}

/**
 * A screen in its own chunk. Unlike a bare React.lazy, a screen whose chunk is already loaded renders
 * directly: React reveals content that suspended no sooner than 300 ms after its fallback appeared,
 * so every first visit through lazy() alone would wait that long even with the chunk in hand.
 */
export function lazyScreen<K extends string>(load: () => Promise<Record<K, ComponentType>>, name: K): LazyScreen {
  let loaded: ComponentType | null = null;
  let pending: Promise<ComponentType> | null = null;
  const fetchScreen = (): Promise<ComponentType> => {
    pending ??= load().then(
      (module) => {
        loaded = module[name];
        return loaded;
      },
      (err: unknown) => {
        // A chunk that failed to load (a deploy replaced it, the network dropped) is tried again next time.
        pending = null;
        throw err;
      },
    );
    return pending;
  };
  const Suspending = lazy(() => fetchScreen().then((component) => ({ default: component })));
  // Made once per screen at module load, like React.lazy itself. The type is chosen once per mount:
  // switching from the lazy wrapper to the loaded component later would remount the screen and lose
  // its state (a half-filled form).
  // biome-ignore lint/correctness/noComponentHookFactories: called at module level, once per screen
  const Screen = () => {
    const [type] = useState<ComponentType>(() => loaded ?? Suspending);
    return createElement(type);
  };
  return Object.assign(Screen, { preload: () => fetchScreen().then(() => undefined) });
}
