import type { Reason } from '../api/index.js';

/**
 * An error from a cluster manager. `reason` uses the API's vocabulary so the
 * server can turn it into a Status without guessing from the message.
 */
export class ManagerError extends Error {
  readonly reason: Reason;
  constructor(reason: Reason, message: string) {
    super(message);
    this.name = 'ManagerError';
    this.reason = reason;
  }
}
