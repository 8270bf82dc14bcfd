/**
 * Runs one pass of a FAKE component (scheduler, kubelet, controller) so that an object it cannot handle is logged and
 * skipped instead of crashing the fake's process from a timer callback.
 */
export function guard(what: string, fn: () => void): void {
  try {
    fn();
  } catch (err) {
    console.error(`fake-kube: ${what} failed:`, err);
  }
}
