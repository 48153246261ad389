import { createElement, lazy, useState, type ComponentType } from 'react';

/**
 * A page whose code loads when first needed, like React.lazy, that can also be
 * preloaded. Once its module has arrived the page renders at once instead of
 * suspending: React holds back content revealed after a Suspense fallback
 * (about 300 ms), so a page opened directly by URL should be loaded before
 * its route first renders.
 */
export type LazyPage = ComponentType & { preload(): Promise<unknown> };

/** Pages take no props: what they show comes from the address. */
export function lazyPage(load: () => Promise<{ default: ComponentType }>): LazyPage {
  let loaded: ComponentType | undefined;
  let pending: Promise<{ default: ComponentType }> | undefined;
  const preload = () =>
    (pending ??= load().then(
      (module) => {
        loaded = module.default;
        return module;
      },
      (error: unknown) => {
        pending = undefined; // a failed chunk load may be retried
        throw error;
      },
    ));
  const Lazy = lazy(preload);
  // Chosen once per mount: switching from the lazy wrapper to the loaded page later would remount it and lose its state.
  const Page = () => {
    const [component] = useState<ComponentType>(() => loaded ?? Lazy);
    return createElement(component);
  };
  return Object.assign(Page, { preload });
}
