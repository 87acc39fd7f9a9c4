import type { SignalApi } from '@backstage/plugin-signals-react';
import type { JsonObject } from '@backstage/types';

/**
 * The signals the backend would push, pushed by the test: the app's SignalApi, with `publish`
 * standing for the backend's signalsService.publish and `subscribers` telling who listens where.
 */
export function fakeSignals() {
  const channels = new Map<string, Set<(message: JsonObject) => void>>();
  const api: SignalApi = {
    subscribe<T extends JsonObject>(
      channel: string,
      onMessage: (message: T) => void,
    ) {
      const listeners = channels.get(channel) ?? new Set();
      const listener = onMessage as (message: JsonObject) => void;
      listeners.add(listener);
      channels.set(channel, listeners);
      return { unsubscribe: () => listeners.delete(listener) };
    },
  };
  return {
    api,
    /** Delivers a fresh copy of the message, as a socket would, to every subscriber of the channel. */
    publish(channel: string, message: JsonObject) {
      for (const listener of channels.get(channel) ?? [])
        listener({ ...message });
    },
    subscribers: (channel: string): number => channels.get(channel)?.size ?? 0,
  };
}
