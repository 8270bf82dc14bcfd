import { ApiError, type Reason } from '../api/index.js';

/**
 * An error from a cluster manager. An ApiError, so `reason` (the API's
 * vocabulary) becomes the Status the server answers without guessing from the
 * message: NotImplemented (501) for a missing capability, Invalid (422) for a
 * bad config, ServiceUnavailable (503) for an unreachable backend.
 */
export class ManagerError extends ApiError {
  constructor(reason: Reason, message: string) {
    super(reason, message);
    this.name = 'ManagerError';
  }
}
