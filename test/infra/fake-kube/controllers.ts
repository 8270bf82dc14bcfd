/** The FAKE controllers (deployments, endpointslices). */
import type { FakeApi } from './api.js';

export class FakeControllers {
  constructor(private readonly api: FakeApi) {}
  start(): void {}
  stop(): void {}
}
