/** Slurm's job and node states in SkyShift's vocabulary. Pure functions. */
import type { TaskState } from '../types.js';

/**
 * Job (array task) state -> task state. COMPLETING counts as RUNNING: the
 * task still holds its resources and its final state is not known yet.
 * PREEMPTED is EVICTED (the scheduler may place the replica elsewhere);
 * CANCELLED reaches here only when someone other than SkyShift cancelled it
 * (SkyShift forgets the ranks it cancels), so it is a failure.
 */
export function taskState(slurmState: string): TaskState {
  const s = slurmState.toUpperCase().split(/[\s+]/)[0] ?? '';
  switch (s) {
    case 'PENDING':
    case 'PD':
    case 'CONFIGURING':
    case 'CF':
    case 'REQUEUED':
    case 'REQUEUE_HOLD':
    case 'REQUEUE_FED':
    case 'RESV_DEL_HOLD':
    case 'SUSPENDED':
    case 'STOPPED':
      return 'PENDING';
    case 'RUNNING':
    case 'R':
    case 'COMPLETING':
    case 'CG':
    case 'RESIZING':
    case 'SIGNALING':
    case 'STAGE_OUT':
      return 'RUNNING';
    case 'COMPLETED':
    case 'CD':
      return 'COMPLETED';
    case 'PREEMPTED':
    case 'PR':
      return 'EVICTED';
    case 'FAILED':
    case 'F':
    case 'CANCELLED':
    case 'CA':
    case 'TIMEOUT':
    case 'TO':
    case 'NODE_FAIL':
    case 'NF':
    case 'OUT_OF_MEMORY':
    case 'OOM':
    case 'BOOT_FAIL':
    case 'BF':
    case 'DEADLINE':
    case 'DL':
    case 'SPECIAL_EXIT':
    case 'REVOKED':
      return 'FAILED';
    default:
      return 'PENDING';
  }
}

export function isTerminal(state: TaskState): boolean {
  return state === 'COMPLETED' || state === 'FAILED' || state === 'EVICTED';
}

/** Node state words (base state and flags, any case, `+`/`*`/`~`/`#` suffixes) that make a node unable to run new work. */
const UNAVAILABLE = new Set([
  'DOWN',
  'DRAIN',
  'DRAINED',
  'DRAINING',
  'FAIL',
  'FAILING',
  'FUTURE',
  'MAINT',
  'NOT_RESPONDING',
  'NO_RESPOND',
  'POWER_DOWN',
  'POWERED_DOWN',
  'POWERING_DOWN',
  'POWERING_UP',
  'POWER_UP',
  'REBOOT_ISSUED',
  'REBOOT_REQUESTED',
  'UNKNOWN',
  'INVAL',
  'RESERVED',
  'PLANNED',
]);

/**
 * Whether a node can take work. `scontrol` writes `IDLE+DRAIN`, sinfo `idle*`
 * (the `*` means not responding), REST a base state plus `state_flags`.
 */
export function nodeAvailable(state: string, flags: string[] = []): boolean {
  if (state.trim().endsWith('*')) return false; // sinfo's 'not responding' mark
  const words = [
    ...state
      .toUpperCase()
      .replace(/[*~#!%$@^]/g, '')
      .split('+'),
    ...flags.map((f) => f.toUpperCase()),
  ];
  return !words.some((w) => UNAVAILABLE.has(w.trim()));
}
