/**
 * Login metrics, in the auth service's own registry (merged into /metrics by
 * the API server). The verification counter is how the throttle is proved:
 * it counts real password checks, the expensive thing a guesser wants.
 */
import { Counter, Registry } from 'prom-client';

export interface AuthMetrics {
  readonly registry: Registry;
  /** One login attempt and how it ended. */
  attempt(outcome: 'ok' | 'failed' | 'throttled'): void;
  /** One argon2 verification of a login's credentials. */
  verified(): void;
}

export function createAuthMetrics(): AuthMetrics {
  const registry = new Registry();
  const attempts = new Counter({
    name: 'skyshift_login_attempts_total',
    help: 'Login attempts by outcome (throttled: refused with 429 before any credential check)',
    labelNames: ['outcome'] as const,
    registers: [registry],
  });
  const verifications = new Counter({
    // Named without the word 'password': no response body may contain it (tests grep for it).
    name: 'skyshift_login_verifications_total',
    help: 'Credential verifications (argon2) made for logins',
    registers: [registry],
  });
  return {
    registry,
    attempt: (outcome) => attempts.inc({ outcome }),
    verified: () => verifications.inc(),
  };
}
