import { useEffect, useRef } from 'react';
import { useSignal } from '@backstage/plugin-signals-react';
import type { ChaosRunSignal } from '@chaoscraft/backstage-plugin-chaos-common';

/**
 * Calls `refresh` once for each message on `channel`, and says whether signals are available.
 *
 * `refresh` is read through a ref, on purpose: react-use's `retry` changes identity whenever its
 * loading state flips, so an effect that lists it beside `lastSignal` fires again after every
 * load it starts, and one signal becomes a request loop (seen in make dev: ~30 list requests a
 * second for as long as the tab was open).
 */
export function useRefreshOnSignal(
  channel: string,
  refresh: () => void,
): { isSignalsAvailable: boolean } {
  const { lastSignal, isSignalsAvailable } = useSignal<ChaosRunSignal>(channel);
  const latest = useRef(refresh);
  latest.current = refresh;
  useEffect(() => {
    if (lastSignal) latest.current();
  }, [lastSignal]);
  return { isSignalsAvailable };
}
