/**
 * pods/{name}/exec over a channel WebSocket, as the real API server (v1.30+) and kubelet run it: an empty first message
 * on the lowest output channel, stdout/stderr as they come, stdin (v5: half-closed with [255, 0]), resize JSON on
 * channel 4, and last the Status on channel 3 (v4/v5: JSON; older protocols: the failure's text), then a normal close.
 */
import type { WebSocket } from 'ws';
import { ChannelConn } from './channels.js';
import { parseResize, type ExecOptions } from './exec-options.js';
import { startExecSession, type ExecSession } from './exec-session.js';
import type { StreamPod } from './types.js';

export function runExec(ws: WebSocket, protocol: string, pod: StreamPod, opts: ExecOptions, stillRunning: () => boolean): void {
  let finished = false;
  const conn = new ChannelConn(ws, protocol, {
    data(channel, data) {
      if (channel === 0) session.input(data);
      else if (channel === 4) {
        const size = parseResize(data);
        if (size) session.resize(size.cols, size.rows);
      }
    },
    close(channel) {
      if (channel === 0) session.endInput();
    },
    end() {
      if (!finished) session.abort();
    },
  });
  const json = protocol.startsWith('v4.') || protocol.startsWith('v5.');

  // Tells the client the streams are up (createWebSocketStreams).
  conn.send(opts.stdout ? 1 : opts.stderr ? 2 : 3, Buffer.alloc(0));
  const session: ExecSession = startExecSession(
    pod,
    opts,
    {
      output: (channel, data) => conn.send(channel, data),
      drained: () => conn.drained(),
      pauseInput: () => ws.pause(),
      resumeInput: () => ws.resume(),
      finish(status) {
        finished = true;
        if (json) conn.send(3, Buffer.from(JSON.stringify(status)));
        else if (status.status === 'Failure') conn.send(3, Buffer.from(status.message ?? ''));
        conn.close();
      },
    },
    stillRunning,
  );
}
