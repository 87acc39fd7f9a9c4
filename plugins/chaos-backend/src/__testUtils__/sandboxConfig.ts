import type { JsonObject } from '@backstage/types';
import { sandboxKubeconfigPath } from '@chaoscraft/test-sandbox';

/**
 * The root config of a chaos backend whose one cluster, `sandbox`, is the test sandbox, with
 * permissions enabled. `more` is merged in: its `chaos` beside `clusters`, the rest at the top.
 */
export async function sandboxChaosConfig(
  more: JsonObject & { chaos?: JsonObject } = {},
): Promise<JsonObject> {
  const { chaos, ...rest } = more;
  return {
    permission: { enabled: true },
    ...rest,
    chaos: {
      clusters: [
        { name: 'sandbox', kubeconfigPath: await sandboxKubeconfigPath() },
      ],
      ...chaos,
    },
  };
}
