/**
 * The FAKE controllers (deployments, endpointslices), run in one coalesced pass after any change to the objects they
 * read — never inside a store write, whose listeners must not write.
 */
import type { FakeApi } from './api.js';
import { reconcileDeployment } from './deployments.js';
import { reconcileService } from './endpointslices.js';
import { guard } from './guard.js';

const WATCHED = new Set(['deployments', 'pods', 'services']);

export class FakeControllers {
  private pending = false;
  private unsubscribe?: () => void;

  constructor(private readonly api: FakeApi) {}

  start(): void {
    this.unsubscribe = this.api.store.subscribe((e) => {
      if (WATCHED.has(e.resource)) this.kick();
    });
    this.kick();
  }

  stop(): void {
    this.unsubscribe?.();
    this.unsubscribe = undefined;
  }

  private kick(): void {
    if (this.pending) return;
    this.pending = true;
    setImmediate(() => {
      this.pending = false;
      if (!this.unsubscribe) return;
      for (const d of this.api.store.list('deployments')) guard(`fake deployment controller: ${d.metadata.name}`, () => reconcileDeployment(this.api, d));
      for (const s of this.api.store.list('services')) guard(`fake endpointslice controller: ${s.metadata.name}`, () => reconcileService(this.api, s));
    });
  }
}
