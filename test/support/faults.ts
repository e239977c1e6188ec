// Fault injection around a real provider: the vendor really accepts, then the process "crashes" before herald records it.
import type { AnyProvider } from '../../lib/providers/types';

/** The first `times` sends reach the vendor and are accepted there; the worker then dies before writing 'sent'. */
export function crashAfterAccept<P extends AnyProvider>(provider: P, times: number): P & { crashes: number } {
  const wrapped = Object.create(provider) as P & { crashes: number };
  wrapped.crashes = 0;
  wrapped.send = (async (input: never) => {
    const result = await (provider.send as (i: never) => Promise<unknown>)(input);
    if (wrapped.crashes < times) {
      wrapped.crashes++;
      throw new Error('worker crashed after the provider accepted the message');
    }
    return result;
  }) as P['send'];
  return wrapped;
}
