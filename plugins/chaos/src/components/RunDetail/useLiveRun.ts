import { useCallback, useEffect, useState } from 'react';
import { useApi } from '@backstage/frontend-plugin-api';
import {
  isTerminalPhase,
  type RunDetail,
} from '@chaoscraft/backstage-plugin-chaos-common';
import { chaosApiRef } from '../../api';

/** How often a live run is polled: from `minMs`, doubling while nothing changes, up to `maxMs`. */
export type PollIntervals = { minMs: number; maxMs: number };

export const DEFAULT_POLL_INTERVALS: PollIntervals = { minMs: 1000, maxMs: 10_000 };

export type LiveRun = {
  run?: RunDetail;
  /** The last failed fetch; a live run keeps being polled through transient errors. */
  error?: Error;
  loading: boolean;
  /** Fetch now and poll from the shortest interval again, e.g. after an abort. */
  refresh: () => void;
};

/**
 * A run, kept current while it is live. Polling backs off while nothing changes (a run that
 * sits in Running for minutes costs a request every 10 s, not every second), starts over
 * at the shortest interval on any change, and stops once the phase is terminal.
 */
export function useLiveRun(runId: string, intervals: PollIntervals = DEFAULT_POLL_INTERVALS): LiveRun {
  const api = useApi(chaosApiRef);
  const [state, setState] = useState<{ run?: RunDetail; error?: Error; loading: boolean }>({ loading: true });
  const [generation, setGeneration] = useState(0);
  const { minMs, maxMs } = intervals;

  useEffect(() => {
    let cancelled = false;
    let timer: ReturnType<typeof setTimeout> | undefined;
    let delay = minMs;
    let lastSeen: string | undefined;
    let haveRun = false;

    const poll = async (): Promise<void> => {
      try {
        const run = await api.getRun(runId);
        if (cancelled) return;
        haveRun = true;
        const seen = JSON.stringify(run);
        if (seen !== lastSeen) {
          lastSeen = seen;
          delay = minMs;
          setState({ run, loading: false });
        } else {
          delay = Math.min(delay * 2, maxMs);
          setState(s => (s.error ? { run: s.run, loading: false } : s));
        }
        if (!isTerminalPhase(run.phase)) timer = setTimeout(poll, delay);
      } catch (error) {
        if (cancelled) return;
        setState(s => ({ run: s.run, error: error as Error, loading: false }));
        // Only a run we have seen is worth retrying: a first 404 or 403 will not heal.
        if (haveRun) {
          delay = Math.min(delay * 2, maxMs);
          timer = setTimeout(poll, delay);
        }
      }
    };
    void poll();
    return () => {
      cancelled = true;
      if (timer) clearTimeout(timer);
    };
  }, [api, runId, minMs, maxMs, generation]);

  useEffect(() => setState({ loading: true }), [runId]);

  const refresh = useCallback(() => setGeneration(g => g + 1), []);
  return { ...state, refresh };
}
